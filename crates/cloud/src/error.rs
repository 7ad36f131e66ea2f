//! [`LambdaError`] and the mapping from aws-sdk errors.

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// AWS Lambda failures. Messages are AWS's own where AWS gave one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaError {
    /// The function (or its URL, alias, concurrency setting) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The function already exists, or another update is in progress on it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// AWS throttled the call: retry with backoff.
    #[error("throttled: {0}")]
    Throttled(String),
    /// A parameter was refused (by AWS, with its message, or by [`crate::LambdaSpec::validate`]).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Missing, wrong or insufficient AWS credentials.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// AWS is unreachable, timed out or failed on its side: retry with backoff.
    #[error("AWS Lambda unavailable: {0}")]
    Unavailable(String),
    /// The endpoint does not implement the operation (an emulator, or a partition without it).
    #[error("not supported by this endpoint: {0}")]
    Unsupported(String),
    /// The function reached the `Failed` state or did not settle in time.
    #[error("function not ready: {0}")]
    NotReady(String),
    /// Anything else, with AWS's error code.
    #[error("AWS Lambda error: {0}")]
    Other(String),
}

impl LambdaError {
    /// Whether the same call may succeed later without a change of input.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Throttled(_) | Self::Unavailable(_) => true,
            // "An update is in progress for resource": the function is busy, not taken.
            Self::Conflict(message) => message.contains("in progress"),
            _ => false,
        }
    }

    /// Whether this is [`LambdaError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// Maps an aws-sdk-lambda error of operation `op` to a [`LambdaError`].
pub(crate) fn map_sdk_error<E>(op: &str, err: SdkError<E>) -> LambdaError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let service = match &err {
        SdkError::ServiceError(service) => service,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            return LambdaError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err)));
        }
        _ => return LambdaError::Other(format!("{op}: {}", DisplayErrorContext(&err))),
    };
    let status = service.raw().status().as_u16();
    let code = service.err().code().unwrap_or_default();
    let message = service
        .err()
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{op} failed with HTTP {status}"));
    match code {
        "ResourceNotFoundException" => LambdaError::NotFound(message),
        "ResourceConflictException" | "ResourceInUseException" | "ConflictException" => {
            LambdaError::Conflict(message)
        }
        "TooManyRequestsException" | "ThrottlingException" | "EC2ThrottledException" => {
            LambdaError::Throttled(message)
        }
        "InvalidParameterValueException"
        | "ValidationException"
        | "InvalidRequestContentException"
        | "RequestTooLargeException"
        | "UnsupportedMediaTypeException" => LambdaError::InvalidParameter(message),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId" => LambdaError::AccessDenied(message),
        "ServiceException" => LambdaError::Unavailable(message),
        _ if status == 429 => LambdaError::Throttled(message),
        _ if status >= 500 => LambdaError::Unavailable(format!("{op}: HTTP {status}: {message}")),
        // A 404 without an AWS error code is a route the endpoint does not know.
        "" if status == 404 => {
            LambdaError::Unsupported(format!("{op} (HTTP 404 without an AWS error)"))
        }
        "" => LambdaError::Other(format!("{op}: HTTP {status}")),
        code => LambdaError::Other(format!("{op}: {code}: {message}")),
    }
}
