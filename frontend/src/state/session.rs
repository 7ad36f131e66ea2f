//! The browser session: who is signed in, for which team, and the access token.
//!
//! - The access token lives only in this module's memory (never in storage); a reload
//!   gets a new one from `POST /auth/refresh`, which the httpOnly refresh cookie
//!   authenticates. Only the id of the selected team is remembered in localStorage.
//! - On start the session is [`AuthStatus::Restoring`] until that first refresh settles,
//!   so protected pages can show a skeleton instead of flashing the sign-in page.
//! - The token is renewed about a minute before it expires, and on a 401 from any call
//!   (see [`crate::api::Credentials`]). Every renewal goes through one shared future, and
//!   across tabs through a Web Lock: the server treats a refresh with an already rotated
//!   cookie as token theft and ends the session.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use hfb_shared::auth::{AuthResponse, Role, TeamSummary, UserProfile};
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use crate::api::{self, ApiResult, Credentials, auth};
use crate::state::toast::Toasts;

/// localStorage key of the selected team's id.
pub const TEAM_STORAGE_KEY: &str = "hfb.team";
/// Name of the Web Lock that serialises refreshes across this site's tabs.
const REFRESH_LOCK: &str = "hfb-auth-refresh";
/// Renew this long before the access token expires.
const RENEW_AHEAD_MS: f64 = 60_000.0;
/// A token with less life left than this is renewed before a call instead of after a 401.
const MIN_TOKEN_LIFE_MS: f64 = 5_000.0;
/// After a renewal failed for a passing reason (network, 5xx), try again this much later.
const RETRY_MS: u32 = 15_000;
/// Waits between the attempts to restore the session on start.
const RESTORE_RETRIES_MS: [u32; 2] = [1_000, 3_000];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStatus {
    /// The first refresh after the app started has not settled yet.
    Restoring,
    SignedIn,
    SignedOut,
}

struct Token {
    value: String,
    expires_at_ms: f64,
}

type Renewal = Shared<LocalBoxFuture<'static, ApiResult<String>>>;

#[derive(Default)]
struct Core {
    token: Option<Token>,
    /// The CSRF token of the last auth answer; the cookie is read first.
    csrf: Option<String>,
    /// The refresh in flight, shared by everyone who needs a new token meanwhile.
    renewal: Option<(u64, Renewal)>,
    next_renewal_id: u64,
    /// The scheduled renewal; dropping it cancels it.
    timer: Option<Timeout>,
    /// Bumped on every sign-in and sign-out, so that a refresh that started before
    /// cannot overwrite what came after it.
    epoch: u64,
}

/// Handle to the session in context; `Copy`, so views capture it freely.
#[derive(Clone, Copy)]
pub struct Session {
    status: RwSignal<AuthStatus>,
    user: RwSignal<Option<UserProfile>>,
    core: StoredValue<Core, LocalStorage>,
    toasts: Toasts,
}

pub fn provide_session(toasts: Toasts) -> Session {
    let has_cookie = auth::read_cookie(auth::CSRF_COOKIE).is_some();
    let session = Session {
        status: RwSignal::new(if has_cookie {
            AuthStatus::Restoring
        } else {
            AuthStatus::SignedOut
        }),
        user: RwSignal::new(None),
        core: StoredValue::new_local(Core::default()),
        toasts,
    };
    api::set_credentials(Rc::new(session));
    provide_context(session);
    // Without the readable CSRF cookie there is no session to restore (and a refresh
    // would be refused anyway): the app knows at once that nobody is signed in.
    if has_cookie {
        spawn_local(session.restore());
    }
    session
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn unauthorized(message: &str) -> ErrorDetail {
    ErrorDetail {
        code: ErrorCode::Unauthorized,
        message: message.to_owned(),
        details: None,
        request_id: None,
    }
}

/// Whether a failed refresh means the session is gone (as opposed to a passing failure).
fn ends_session(error: &ErrorDetail) -> bool {
    matches!(error.code, ErrorCode::Unauthorized | ErrorCode::Forbidden)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn remembered_team() -> Option<String> {
    storage()?
        .get_item(TEAM_STORAGE_KEY)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

fn remember_team(team_id: Option<&str>) {
    if let Some(storage) = storage() {
        // Storage may be full or disabled; the team then simply is not remembered.
        let _ = match team_id {
            Some(id) => storage.set_item(TEAM_STORAGE_KEY, id),
            None => storage.remove_item(TEAM_STORAGE_KEY),
        };
    }
}

/// When to renew a token that lives `expires_in_ms`: a minute ahead, or halfway for
/// short-lived tokens.
fn renew_delay_ms(expires_in_ms: f64) -> u32 {
    let ahead = if expires_in_ms > 2.0 * RENEW_AHEAD_MS {
        expires_in_ms - RENEW_AHEAD_MS
    } else {
        expires_in_ms / 2.0
    };
    ahead.clamp(1_000.0, f64::from(i32::MAX)) as u32
}

impl Session {
    /// Whether the start-up refresh has settled, and how (tracked).
    pub fn status(&self) -> AuthStatus {
        self.status.get()
    }

    pub fn is_signed_in(&self) -> bool {
        self.status.get() == AuthStatus::SignedIn
    }

    pub fn with_user<U>(&self, f: impl FnOnce(Option<&UserProfile>) -> U) -> U {
        self.user.with(|u| f(u.as_ref()))
    }

    /// The team the access token acts for (tracked).
    pub fn current_team(&self) -> Option<TeamSummary> {
        self.with_user(|user| {
            let user = user?;
            user.teams
                .iter()
                .find(|t| t.id == user.current_team_id)
                .cloned()
        })
    }

    /// My role in `team_id`, if I am a member (tracked).
    pub fn role_in(&self, team_id: &str) -> Option<Role> {
        self.with_user(|user| user?.teams.iter().find(|t| t.id == team_id).map(|t| t.role))
    }

    /// Signed in through the sign-in or sign-up form.
    pub fn sign_in(&self, response: AuthResponse) {
        self.core.update_value(|c| {
            c.epoch += 1;
            c.renewal = None;
        });
        self.accept(response);
    }

    /// Ends the session on the server and here. The local state is cleared even when the
    /// server could not be told; the error is returned for a toast.
    pub async fn sign_out(self) -> ApiResult<()> {
        // A refresh in flight rotates the cookie; let it land so the right one is sent.
        if let Some(renewal) = self.core.with_value(|c| c.renewal.clone()) {
            let _ = renewal.1.await;
        }
        let token = self
            .core
            .with_value(|c| c.token.as_ref().map(|t| t.value.clone()));
        let csrf = self.csrf();
        let result = auth::logout(token.as_deref(), csrf.as_deref()).await;
        self.clear();
        remember_team(None);
        result
    }

    /// The account was deleted: forget everything without calling the server again.
    pub fn forget(&self) {
        self.clear();
        remember_team(None);
    }

    /// Acts for another team: a refresh with `?team_id=`, remembered for the next visit.
    pub async fn switch_team(self, team_id: String) -> ApiResult<()> {
        // One refresh at a time: wait for the one in flight, then rotate again.
        while let Some((_, renewal)) = self.core.with_value(|c| c.renewal.clone()) {
            let _ = renewal.await;
        }
        self.start_renewal(Some(team_id)).await.map(|_| ())
    }

    /// Reads the profile again (after joining or creating a team, for example).
    pub async fn reload_profile(self) -> ApiResult<()> {
        let profile = api::account::me().await?;
        self.set_user(profile);
        Ok(())
    }

    /// Takes a profile the server answered with (after `PATCH /me`).
    pub fn set_user(&self, profile: UserProfile) {
        if self.status.get_untracked() == AuthStatus::SignedIn {
            self.user.set(Some(profile));
        }
    }

    fn csrf(&self) -> Option<String> {
        auth::read_cookie(auth::CSRF_COOKIE).or_else(|| self.core.with_value(|c| c.csrf.clone()))
    }

    fn current_team_id(&self) -> Option<String> {
        self.user
            .with_untracked(|u| u.as_ref().map(|u| u.current_team_id.clone()))
            .or_else(remembered_team)
    }

    /// The first refresh after start, retried a little when the server is unreachable.
    async fn restore(self) {
        let team = remembered_team();
        let mut last_error = None;
        for wait_ms in std::iter::once(0).chain(RESTORE_RETRIES_MS) {
            if wait_ms > 0 {
                TimeoutFuture::new(wait_ms).await;
            }
            match self.start_renewal(team.clone()).await {
                Ok(_) => return,
                // The renewal already signed out (the cookie's session is over).
                Err(e) if ends_session(&e) => return,
                Err(e) => last_error = Some(e),
            }
            if self.status.get_untracked() != AuthStatus::Restoring {
                return;
            }
        }
        if self.status.get_untracked() == AuthStatus::Restoring {
            self.status.set(AuthStatus::SignedOut);
            if let Some(e) = last_error {
                self.toasts
                    .api_error("Could not restore your session; sign in again", &e);
            }
        }
    }

    /// Starts a refresh (acting for `team`) that everyone needing a token meanwhile shares.
    fn start_renewal(self, team: Option<String>) -> Renewal {
        let (id, epoch) = self.core.with_value(|c| (c.next_renewal_id, c.epoch));
        let job = async move {
            let result = with_refresh_lock(
                async move {
                    // Read inside the lock: another tab may just have rotated the cookies.
                    match self.csrf() {
                        Some(csrf) => auth::refresh(team.as_deref(), &csrf).await,
                        None => Err(unauthorized("You are signed out.")),
                    }
                }
                .boxed_local(),
            )
            .await;
            let current = self.core.try_update_value(|c| {
                if c.renewal.as_ref().is_some_and(|(rid, _)| *rid == id) {
                    c.renewal = None;
                }
                c.epoch == epoch
            });
            let current = current.unwrap_or(false);
            match result {
                Ok(response) => {
                    let token = response.access_token.clone();
                    if current {
                        self.accept(response);
                    }
                    Ok(token)
                }
                Err(e) => {
                    if current {
                        if ends_session(&e) {
                            self.end(&e);
                        } else if self.status.get_untracked() == AuthStatus::SignedIn {
                            self.schedule(RETRY_MS);
                        }
                    }
                    Err(e)
                }
            }
        }
        .boxed_local()
        .shared();
        self.core.update_value(|c| {
            c.next_renewal_id += 1;
            c.renewal = Some((id, job.clone()));
        });
        // Runs to the end even if every caller stops waiting.
        spawn_local(job.clone().map(|_| ()));
        job
    }

    fn accept(&self, response: AuthResponse) {
        let expires_in_ms = response.expires_in as f64 * 1000.0;
        self.core.update_value(|c| {
            c.token = Some(Token {
                value: response.access_token.clone(),
                expires_at_ms: now_ms() + expires_in_ms,
            });
            c.csrf = Some(response.csrf_token.clone());
        });
        self.schedule(renew_delay_ms(expires_in_ms));
        remember_team(Some(&response.user.current_team_id));
        self.user.set(Some(response.user));
        self.status.set(AuthStatus::SignedIn);
    }

    fn schedule(&self, delay_ms: u32) {
        let session = *self;
        let timer = Timeout::new(delay_ms, move || {
            let idle = session
                .core
                .try_with_value(|c| c.renewal.is_none())
                .unwrap_or(false);
            if idle && session.status.get_untracked() == AuthStatus::SignedIn {
                // It runs by itself (spawned); nobody here needs its result.
                drop(session.start_renewal(session.current_team_id()));
            }
        });
        // Replacing the previous timer cancels it.
        self.core.update_value(|c| c.timer = Some(timer));
    }

    fn clear(&self) {
        self.core.update_value(|c| {
            c.epoch += 1;
            c.token = None;
            c.csrf = None;
            c.renewal = None;
            c.timer = None;
        });
        self.user.set(None);
        self.status.set(AuthStatus::SignedOut);
    }

    /// The server ended the session (revoked, expired, signed out elsewhere).
    fn end(&self, error: &ErrorDetail) {
        let was_signed_in = self.status.get_untracked() == AuthStatus::SignedIn;
        self.clear();
        if was_signed_in {
            self.toasts
                .api_error("Your session has ended; sign in again", error);
        }
    }
}

impl Credentials for Session {
    fn token(&self) -> LocalBoxFuture<'static, ApiResult<String>> {
        let session = *self;
        async move {
            if let Some((_, renewal)) = session.core.with_value(|c| c.renewal.clone()) {
                return renewal.await;
            }
            let token = session.core.with_value(|c| {
                c.token
                    .as_ref()
                    .map(|t| (t.value.clone(), t.expires_at_ms - now_ms()))
            });
            match token {
                Some((value, life_ms)) if life_ms > MIN_TOKEN_LIFE_MS => Ok(value),
                // About to expire (a timer throttled in a background tab): renew first.
                Some((value, _)) => session.renew(&value).await,
                None => Err(unauthorized("Sign in to continue.")),
            }
        }
        .boxed_local()
    }

    fn renew(&self, rejected: &str) -> LocalBoxFuture<'static, ApiResult<String>> {
        let session = *self;
        let rejected = rejected.to_owned();
        async move {
            if let Some((_, renewal)) = session.core.with_value(|c| c.renewal.clone()) {
                return renewal.await;
            }
            let current = session
                .core
                .with_value(|c| c.token.as_ref().map(|t| t.value.clone()));
            match current {
                // Renewed since that call went out: no need to rotate again.
                Some(current) if current != rejected => Ok(current),
                Some(_) => session.start_renewal(session.current_team_id()).await,
                None => Err(unauthorized("Sign in to continue.")),
            }
        }
        .boxed_local()
    }

    fn session_ended(&self, error: &ErrorDetail) {
        self.end(error);
    }
}

/// Runs `job` while holding this site's refresh lock (Web Locks API), so that tabs
/// never present the same refresh cookie twice. Without the API it just runs `job`.
async fn with_refresh_lock(
    job: LocalBoxFuture<'static, ApiResult<AuthResponse>>,
) -> ApiResult<AuthResponse> {
    let locks = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|l| l.is_object());
    let request = locks
        .as_ref()
        .and_then(|l| js_sys::Reflect::get(l, &JsValue::from_str("request")).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return job.await;
    };

    let job = Rc::new(RefCell::new(Some(job)));
    let output: Rc<RefCell<Option<ApiResult<AuthResponse>>>> = Rc::new(RefCell::new(None));
    let callback = {
        let job = Rc::clone(&job);
        let output = Rc::clone(&output);
        Closure::once(move |_lock: JsValue| -> js_sys::Promise {
            let job = job.borrow_mut().take();
            wasm_bindgen_futures::future_to_promise(async move {
                if let Some(job) = job {
                    let result = job.await;
                    *output.borrow_mut() = Some(result);
                }
                Ok(JsValue::UNDEFINED)
            })
        })
    };
    let granted = request
        .call2(
            &locks,
            &JsValue::from_str(REFRESH_LOCK),
            callback.as_ref().unchecked_ref(),
        )
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    if let Some(granted) = granted {
        let _ = wasm_bindgen_futures::JsFuture::from(granted).await;
    }
    drop(callback);
    let result = output.borrow_mut().take();
    if let Some(result) = result {
        return result;
    }
    // The lock could not be taken (an opaque origin, say): refresh without it.
    let job = job.borrow_mut().take();
    match job {
        Some(job) => job.await,
        None => Err(unauthorized("The session could not be renewed.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_a_minute_ahead_or_halfway() {
        assert_eq!(renew_delay_ms(900_000.0), 840_000);
        assert_eq!(renew_delay_ms(60_000.0), 30_000);
        assert_eq!(renew_delay_ms(0.0), 1_000);
    }
}
