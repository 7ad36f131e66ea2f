//! The OpenAPI document and the interactive API reference that reads it.
//!
//! The reference page is our own small HTML/JS explorer (no CDN: hfb must work
//! air-gapped), served as separate files so a strict CSP needs no inline script.

use std::sync::Arc;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use utoipa::openapi::OpenApi;

const DOCS_HTML: &str = include_str!("docs/index.html");
const DOCS_JS: &str = include_str!("docs/app.js");
const DOCS_CSS: &str = include_str!("docs/style.css");

/// Registers `/api/openapi.json` and `/api/docs` for the given document.
pub fn services(spec: &OpenApi) -> impl actix_web::dev::HttpServiceFactory + use<> {
    let json: Arc<str> = spec
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
        .into();
    (
        web::resource("/api/openapi.json").route(web::get().to(move || {
            let json = json.clone();
            async move {
                HttpResponse::Ok()
                    .insert_header((CONTENT_TYPE, "application/json"))
                    .insert_header((CACHE_CONTROL, "no-cache"))
                    .body(json.to_string())
            }
        })),
        web::resource(["/api/docs", "/api/docs/"])
            .route(web::get().to(|| asset(DOCS_HTML, "text/html; charset=utf-8"))),
        web::resource("/api/docs/app.js")
            .route(web::get().to(|| asset(DOCS_JS, "text/javascript; charset=utf-8"))),
        web::resource("/api/docs/style.css")
            .route(web::get().to(|| asset(DOCS_CSS, "text/css; charset=utf-8"))),
    )
}

async fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(body)
}
