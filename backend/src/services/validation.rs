//! Collects field errors so a request learns about all of them at once (422 with
//! `details.fields = [{field, message}]`).

use hfb_shared::ErrorCode;
use hfb_shared::telemetry::FieldError;

use crate::error::ApiError;

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Checks a length in characters (not bytes), after trimming for the emptiness test.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let chars = value.chars().count();
        if min > 0 && value.trim().is_empty() {
            self.error(field, "must not be empty");
        } else if chars < min {
            self.error(field, format!("must be at least {min} characters"));
        } else if chars > max {
            self.error(
                field,
                format!("must be at most {max} characters (got {chars})"),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let summary = self
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(ApiError::new(ErrorCode::ValidationFailed, summary)
            .with_details(serde_json::json!({ "fields": self.errors })))
    }
}
