//! Cloud deployment targets for hfb that are not Hugging Face: AWS Lambda container
//! functions, driven through aws-sdk-lambda.
//!
//! - [`LambdaSpec`]: what a deployment wants (image, role, memory, timeout, env,
//!   architecture, reserved/provisioned concurrency, function URL); the deployment's
//!   scaling settings map onto it. [`LambdaSpec::validate`] checks Lambda's limits locally.
//! - [`LambdaClient`]: the individual API calls (create, update configuration and code,
//!   concurrency, versions and aliases, function URL, status, delete) and [`LambdaClient::deploy`],
//!   which drives a function to a spec whether or not it exists yet.
//! - [`LambdaError`]: typed failures (not found, conflict, throttled, invalid parameter
//!   with AWS's message, …) with [`LambdaError::is_retryable`] for the reconciler.
//!
//! - [`FunctionUrlSigner`]: SigV4 signatures for calls to IAM-authenticated function URLs.
//!
//! Nothing here panics on an AWS answer; unknown states map to [`FunctionState::Unknown`].

mod error;
mod lambda;
mod spec;
mod url_signer;

pub use error::LambdaError;
pub use lambda::{
    Deployed, FunctionInfo, FunctionState, FunctionUrl, LIVE_ALIAS, LambdaClient, LambdaSettings,
    UpdateStatus,
};
pub use spec::{Architecture, LambdaSpec, MAX_ENV_BYTES, MEMORY_MB, TIMEOUT_S, UrlAuth};
pub use url_signer::FunctionUrlSigner;
