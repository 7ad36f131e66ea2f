//! Error reports from the web app, written to the server log with their request id.

use actix_web::{HttpResponse, post, web};
use hfb_shared::telemetry::{Accepted, ClientErrorReport};

use crate::error::ApiError;
use crate::services::validation::Validator;

const MAX_MESSAGE: usize = 2000;
const MAX_FIELD: usize = 200;

/// Record an error the web app showed to a person.
#[utoipa::path(
    tag = "meta",
    request_body = ClientErrorReport,
    responses(
        (status = 202, description = "Logged", body = Accepted),
        (status = 400, description = "Malformed JSON", body = hfb_shared::ErrorBody),
        (status = 413, description = "Body too large", body = hfb_shared::ErrorBody),
        (status = 422, description = "Invalid fields; `details.fields` lists them", body = hfb_shared::ErrorBody),
    )
)]
#[post("/telemetry/client-errors")]
pub async fn client_errors(report: web::Json<ClientErrorReport>) -> Result<HttpResponse, ApiError> {
    let report = report.into_inner();
    let mut v = Validator::default();
    v.length("message", &report.message, 1, MAX_MESSAGE);
    for (field, value) in [
        ("code", &report.code),
        ("request_id", &report.request_id),
        ("page", &report.page),
    ] {
        if let Some(value) = value {
            v.length(field, value, 1, MAX_FIELD);
        }
    }
    v.finish()?;
    tracing::warn!(
        client_message = %report.message,
        client_code = report.code.as_deref().unwrap_or(""),
        failed_request_id = report.request_id.as_deref().unwrap_or(""),
        page = report.page.as_deref().unwrap_or(""),
        "client error reported"
    );
    Ok(HttpResponse::Accepted().json(Accepted { accepted: true }))
}
