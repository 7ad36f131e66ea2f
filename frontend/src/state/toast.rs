//! Toast notifications: short messages in an `aria-live` region that dismiss themselves.

use std::time::Duration;

use hfb_shared::ErrorDetail;
use leptos::prelude::*;

/// How long a toast stays before it dismisses itself.
const ERROR_TTL: Duration = Duration::from_secs(8);
const INFO_TTL: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Error,
    Success,
    #[allow(dead_code)] // Used by the first informational flows (copy, export).
    Info,
}

impl ToastKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Success => "success",
            Self::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub title: String,
    pub message: String,
    pub code: Option<String>,
    pub request_id: Option<String>,
    /// How many times the same toast was raised while it was showing.
    pub repeats: u32,
    /// Bumped on every repeat so the older dismiss timer leaves the toast alone.
    generation: u64,
}

/// Handle to the toast list; `Copy`, so views capture it freely.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(1),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

impl Toasts {
    pub fn items(&self) -> Signal<Vec<Toast>> {
        self.items.into()
    }

    /// Shows a failed API call: what was attempted, the server's message, code and request id.
    /// A call that failed because the session ended is left out: the session says so once.
    pub fn api_error(&self, title: &str, error: &ErrorDetail) {
        if crate::api::is_signed_out(error) {
            return;
        }
        self.push(
            ToastKind::Error,
            title,
            &error.message,
            Some(error.code.as_str().to_owned()),
            error.request_id.clone(),
        );
    }

    pub fn success(&self, message: &str) {
        self.push(ToastKind::Success, message, "", None, None);
    }

    #[allow(dead_code)]
    pub fn info(&self, message: &str) {
        self.push(ToastKind::Info, message, "", None, None);
    }

    pub fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }

    fn push(
        &self,
        kind: ToastKind,
        title: &str,
        message: &str,
        code: Option<String>,
        request_id: Option<String>,
    ) {
        // The same failure from a periodic refresh bumps the showing toast instead of stacking.
        let mut repeated = None;
        self.items.update(|items| {
            if let Some(t) = items.iter_mut().find(|t| {
                t.kind == kind && t.title == title && t.message == message && t.code == code
            }) {
                t.repeats += 1;
                t.generation += 1;
                t.request_id = request_id.clone();
                repeated = Some((t.id, t.generation));
            }
        });
        let (id, generation) = match repeated {
            Some(found) => found,
            None => {
                let id = self.next_id.get_value();
                self.next_id.set_value(id + 1);
                self.items.update(|items| {
                    items.push(Toast {
                        id,
                        kind,
                        title: title.to_owned(),
                        message: message.to_owned(),
                        code,
                        request_id,
                        repeats: 0,
                        generation: 0,
                    });
                    // A burst of failures should not fill the screen.
                    let excess = items.len().saturating_sub(4);
                    items.drain(..excess);
                });
                (id, 0)
            }
        };
        let ttl = if kind == ToastKind::Error {
            ERROR_TTL
        } else {
            INFO_TTL
        };
        let items = self.items;
        set_timeout(
            move || {
                items
                    .try_update(|items| items.retain(|t| t.id != id || t.generation != generation));
            },
            ttl,
        );
    }
}
