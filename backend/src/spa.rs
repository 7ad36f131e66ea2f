//! Serving the built web app: hashed assets cached for a year, `index.html` revalidated
//! on every load, and every unknown non-API path answered with `index.html` so deep
//! links work.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, web};
use hfb_shared::ErrorCode;

use crate::error::ApiError;

/// The catch-all service for everything that is not an API route.
pub fn service(
    static_dir: PathBuf,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let dir = static_dir;
    let fallback_dir = dir.clone();
    let scope = web::scope("").wrap(from_fn(cache_headers));
    if !dir.is_dir() {
        // No built app: every page falls through to the app's default service, which
        // explains how to build it.
        tracing::warn!(dir = %dir.display(), "HFB_STATIC_DIR is not a directory: the web app is not served");
        return scope;
    }
    scope.service(
        Files::new("/", &dir)
            .index_file("index.html")
            .use_etag(true)
            .use_last_modified(true)
            .default_handler(fn_service(move |req: ServiceRequest| {
                let dir = fallback_dir.clone();
                async move {
                    let (req, _) = req.into_parts();
                    let res = fallback(&req, &dir).await;
                    Ok(ServiceResponse::new(req, res))
                }
            })),
    )
}

/// Answers paths that matched no route and no file.
pub async fn fallback(req: &HttpRequest, static_dir: &Path) -> HttpResponse {
    let path = req.path();
    let api_path = path == "/api" || path.starts_with("/api/") || path.starts_with("/v1/");
    let page_request = req.method() == Method::GET || req.method() == Method::HEAD;
    // A page of the web app can share its path with a POST-only API route (the model page
    // `/models/{owner}/{name}` and the Hugging Face-compatible inference route): browsers
    // get the app, not a 405.
    if page_request && !api_path {
        return index(req, static_dir);
    }
    if let Some(allowed) = req
        .app_data::<web::Data<RouteIndex>>()
        .and_then(|index| index.methods_for(path))
    {
        // The path exists, just not for this method.
        return HttpResponse::from_error(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed on {path}; use {}",
                req.method(),
                allowed.join(", ")
            ),
        ))
        .customize_allow(&allowed);
    }
    if api_path {
        return HttpResponse::from_error(ApiError::not_found(format!(
            "no API route for {} {path}",
            req.method()
        )));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::from_error(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{} is not allowed on {path}", req.method()),
        ));
    }
    index(req, static_dir)
}

fn index(req: &HttpRequest, static_dir: &Path) -> HttpResponse {
    match NamedFile::open(index_path(static_dir)) {
        Ok(file) => file.into_response(req),
        Err(_) => HttpResponse::ServiceUnavailable()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(NOT_BUILT_PAGE),
    }
}

/// The app default service: unknown `/api` paths get JSON 404, others the SPA.
pub async fn default_service(
    req: HttpRequest,
    state: web::Data<crate::state::AppState>,
) -> HttpResponse {
    fallback(&req, &state.settings.static_dir).await
}

/// The documented routes by path template, to tell "wrong method" (405) from "no such
/// route" (404): actix's method guards make a wrong method fall through to the default.
#[derive(Debug, Default)]
pub struct RouteIndex {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteIndex {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let methods = serde_json::to_value(item)
                    .ok()
                    .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|k| {
                        matches!(
                            k.as_str(),
                            "get" | "post" | "put" | "patch" | "delete" | "head"
                        )
                    })
                    .map(|k| k.to_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods a known path template allows, if `path` matches one.
    pub fn methods_for(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes.iter().find_map(|(template, methods)| {
            let matches = template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| {
                    (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p
                });
            matches.then(|| methods.clone())
        })
    }
}

trait AllowHeader {
    fn customize_allow(self, allowed: &[String]) -> HttpResponse;
}

impl AllowHeader for HttpResponse {
    fn customize_allow(mut self, allowed: &[String]) -> HttpResponse {
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            self.headers_mut().insert(header::ALLOW, value);
        }
        self
    }
}

/// SHA-256 (base64) of each inline `<script>` in the built `index.html` (trunk's
/// bootstrap), so the CSP can allow exactly those.
pub fn inline_script_hashes(static_dir: &Path) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Ok(html) = std::fs::read_to_string(index_path(static_dir)) else {
        return Vec::new();
    };
    let mut hashes = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..open_end];
        let body_start = open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            hashes.push(
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes())),
            );
        }
        rest = &rest[body_start + close..];
    }
    hashes
}

fn index_path(static_dir: &Path) -> PathBuf {
    static_dir.join("index.html")
}

const NOT_BUILT_PAGE: &str = "<!doctype html><meta charset=utf-8><title>hfb</title>\
<body style=\"font-family:system-ui;max-width:40rem;margin:4rem auto\"><h1>The web app is not built</h1>\
<p>The API is running (see <a href=\"/api/docs\">/api/docs</a>), but there is no built web app in \
<code>HFB_STATIC_DIR</code>. Run <code>bash scripts/run.sh</code>, which builds it, or \
<code>trunk build --release</code>.</p></body>";

/// Trunk names built assets `name-<hex hash>.ext` (usually 16 digits, fewer when the
/// hash has leading zeros): those never change content.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (10..=20).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A path whose last segment has an extension other than `.html` names a file, not a page.
fn has_asset_extension(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rsplit_once('.')
        .is_some_and(|(_, ext)| !ext.is_empty() && ext != "html")
}

async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let hashed = is_hashed_asset(req.path());
    let page_like = !has_asset_extension(req.path());
    let mut res = next.call(req).await?;
    if res.status().is_success() || res.status() == actix_web::http::StatusCode::NOT_MODIFIED {
        let is_html = page_like
            || res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
        let policy = if hashed {
            "public, max-age=31536000, immutable"
        } else if is_html {
            "no-cache"
        } else {
            "public, max-age=3600"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::{inline_script_hashes, is_hashed_asset};

    #[test]
    fn inline_scripts_are_hashed_for_the_csp() {
        let dir = tempfile::tempdir().unwrap();
        let html = "<html><head><script src=\"/a.js\"></script><script type=\"module\">init('/x.wasm');</script></head></html>";
        std::fs::write(dir.path().join("index.html"), html).unwrap();
        let hashes = inline_script_hashes(dir.path());
        // echo -n "init('/x.wasm');" | openssl dgst -sha256 -binary | base64
        assert_eq!(hashes, ["guudoyWq5dGQUQ/PCsmZyn3lYPh+qrNUbdx6MDgRerU="]);
    }

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed_asset("/hfb-frontend-3c5a8b1e2f4d6a7b.js"));
        assert!(is_hashed_asset("/hfb-frontend-3c5a8b1e2f4d6a7b_bg.wasm"));
        assert!(is_hashed_asset("/main-0123456789abcdef.css"));
        assert!(is_hashed_asset("/main-5abd69a9eee03eb.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/my-file.js"));
    }
}
