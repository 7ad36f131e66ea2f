//! Calls to IAM-authenticated Lambda function URLs: each request is signed with AWS
//! Signature Version 4 for the `lambda` service, with credentials from the standard AWS
//! chain (environment, profile, SSO, instance role), refreshed as they expire.

use std::time::SystemTime;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::region::Region;

use crate::{LambdaError, LambdaSettings};

const DEFAULT_REGION: &str = "us-east-1";

/// Signs `POST`s to function URLs.
pub struct FunctionUrlSigner {
    credentials: Option<SharedCredentialsProvider>,
    region: String,
}

impl FunctionUrlSigner {
    /// A signer with the standard AWS credential chain. Does not contact AWS.
    pub async fn connect(settings: &LambdaSettings) -> Self {
        let region = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::from_static(DEFAULT_REGION));
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .load()
            .await;
        Self {
            credentials: config.credentials_provider(),
            region: config
                .region()
                .map_or_else(|| DEFAULT_REGION.to_owned(), |r| r.as_ref().to_owned()),
        }
    }

    /// The headers (`authorization`, `x-amz-date`, `x-amz-content-sha256` and, with
    /// temporary credentials, `x-amz-security-token`) that make `POST url` with these
    /// headers and body acceptable to an `AWS_IAM` function URL.
    pub async fn sign_post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, LambdaError> {
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| LambdaError::AccessDenied("no AWS credentials found".to_owned()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| LambdaError::AccessDenied(e.to_string()))?;
        let identity: Identity = credentials.into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("lambda")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| LambdaError::AccessDenied(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            "POST",
            url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| LambdaError::AccessDenied(format!("the URL cannot be signed: {e}")))?;
        let (instructions, _signature) = sign(request, &params)
            .map_err(|e| LambdaError::AccessDenied(e.to_string()))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn posts_are_signed_for_the_lambda_service_in_the_region() {
        let signer = FunctionUrlSigner {
            credentials: Some(SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    "AKIDTEST",
                    "secret",
                    Some("session".into()),
                    None,
                    "test",
                ),
            )),
            region: "eu-west-1".to_owned(),
        };
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let signed = signer
            .sign_post("https://abc.lambda-url.eu-west-1.on.aws/", &headers, b"{}")
            .await
            .unwrap();
        let get = |name: &str| {
            signed
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let auth = get("authorization");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/lambda/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;"), "{auth}");
        assert_eq!(get("x-amz-security-token"), "session");
        assert!(!get("x-amz-date").is_empty());
        // sha256("{}")
        assert_eq!(
            get("x-amz-content-sha256"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let unsigned = FunctionUrlSigner {
            credentials: None,
            region: "us-east-1".into(),
        };
        assert!(
            unsigned
                .sign_post("https://x/", &headers, b"")
                .await
                .is_err()
        );
    }
}
