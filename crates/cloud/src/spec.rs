//! [`LambdaSpec`]: the desired state of one container-image Lambda function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::LambdaError;

/// Lambda's memory range in MB.
pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 128..=10_240;
/// Lambda's timeout range in seconds.
pub const TIMEOUT_S: std::ops::RangeInclusive<u32> = 1..=900;
/// Total size Lambda allows for environment variables (names + values), in bytes.
pub const MAX_ENV_BYTES: usize = 4 * 1024;

/// CPU architecture of the function (Lambda runs exactly one per function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    pub(crate) fn to_sdk(self) -> aws_sdk_lambda::types::Architecture {
        match self {
            Self::X86_64 => aws_sdk_lambda::types::Architecture::X8664,
            Self::Arm64 => aws_sdk_lambda::types::Architecture::Arm64,
        }
    }

    pub(crate) fn from_sdk(arch: &aws_sdk_lambda::types::Architecture) -> Option<Self> {
        match arch.as_str() {
            "x86_64" => Some(Self::X86_64),
            "arm64" => Some(Self::Arm64),
            _ => None,
        }
    }
}

/// Who may call the function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlAuth {
    /// Callers sign requests with SigV4 (hfb proxies calls with its AWS credentials).
    #[default]
    AwsIam,
    /// Anyone with the URL.
    None,
}

impl UrlAuth {
    pub(crate) fn to_sdk(self) -> aws_sdk_lambda::types::FunctionUrlAuthType {
        match self {
            Self::AwsIam => aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam,
            Self::None => aws_sdk_lambda::types::FunctionUrlAuthType::None,
        }
    }

    pub(crate) fn from_sdk(auth: &aws_sdk_lambda::types::FunctionUrlAuthType) -> Self {
        match auth.as_str() {
            "NONE" => Self::None,
            _ => Self::AwsIam,
        }
    }
}

/// The desired state of a container-image Lambda function.
///
/// Mapping from a deployment's scaling settings: max replicas → `reserved_concurrency`
/// (a cap on concurrent instances), min replicas > 0 → `provisioned_concurrency` (warm
/// instances; `None` or 0 means scale to zero), instance size → `memory_mb` (Lambda
/// gives CPU in proportion to memory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LambdaSpec {
    /// Function name: 1 to 64 of `A-Z a-z 0-9 - _`.
    pub name: String,
    /// Container image in ECR, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:tag`.
    pub image_uri: String,
    /// Execution role ARN (`arn:aws:iam::<account>:role/<name>`).
    pub role_arn: String,
    /// Memory in MB, 128 to 10240.
    pub memory_mb: u32,
    /// Timeout in seconds, 1 to 900.
    pub timeout_s: u32,
    /// Environment variables (at most 4 KB in total).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub architecture: Architecture,
    /// Concurrent executions reserved for (and capping) the function; `None` uses the
    /// account's unreserved pool.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Pre-initialized instances on the [`crate::LIVE_ALIAS`] alias; `None`/0 for none.
    #[serde(default)]
    pub provisioned_concurrency: Option<u32>,
    /// The function URL's auth; `None` means no function URL.
    #[serde(default)]
    pub url_auth: Option<UrlAuth>,
    #[serde(default)]
    pub description: String,
}

impl LambdaSpec {
    /// A spec with Lambda's defaults for the rest: 1024 MB, 60 s, x86_64, no concurrency
    /// settings, an IAM-authenticated function URL.
    pub fn new(
        name: impl Into<String>,
        image_uri: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            image_uri: image_uri.into(),
            role_arn: role_arn.into(),
            memory_mb: 1024,
            timeout_s: 60,
            env: BTreeMap::new(),
            architecture: Architecture::default(),
            reserved_concurrency: None,
            provisioned_concurrency: None,
            url_auth: Some(UrlAuth::AwsIam),
            description: String::new(),
        }
    }

    /// Checks Lambda's documented limits before calling AWS, so a bad form value gets a
    /// clear [`LambdaError::InvalidParameter`] instead of a late failure.
    pub fn validate(&self) -> Result<(), LambdaError> {
        let invalid = |m: String| Err(LambdaError::InvalidParameter(m));
        let name_ok = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return invalid(format!(
                "function name {:?} must be 1 to 64 letters, digits, '-' or '_'",
                self.name
            ));
        }
        if self.image_uri.trim().is_empty() {
            return invalid("the image URI is empty".into());
        }
        if !self.role_arn.starts_with("arn:") || !self.role_arn.contains(":role/") {
            return invalid(format!("{:?} is not an IAM role ARN", self.role_arn));
        }
        if !MEMORY_MB.contains(&self.memory_mb) {
            return invalid(format!(
                "memory {} MB is outside {}..={} MB",
                self.memory_mb,
                MEMORY_MB.start(),
                MEMORY_MB.end()
            ));
        }
        if !TIMEOUT_S.contains(&self.timeout_s) {
            return invalid(format!(
                "timeout {} s is outside {}..={} s",
                self.timeout_s,
                TIMEOUT_S.start(),
                TIMEOUT_S.end()
            ));
        }
        let env_bytes: usize = self.env.iter().map(|(k, v)| k.len() + v.len()).sum();
        if env_bytes > MAX_ENV_BYTES {
            return invalid(format!(
                "environment variables take {env_bytes} bytes; Lambda allows {MAX_ENV_BYTES}"
            ));
        }
        if let Some(bad) = self.env.keys().find(|k| !valid_env_name(k)) {
            return invalid(format!("{bad:?} is not a valid environment variable name"));
        }
        if let (Some(reserved), Some(provisioned)) =
            (self.reserved_concurrency, self.provisioned_concurrency)
            && provisioned > reserved
        {
            return invalid(format!(
                "provisioned concurrency {provisioned} exceeds reserved concurrency {reserved}"
            ));
        }
        Ok(())
    }

    /// Provisioned concurrency if it asks for any instances.
    pub(crate) fn provisioned(&self) -> Option<u32> {
        self.provisioned_concurrency.filter(|n| *n > 0)
    }
}

/// Lambda's rule: a letter, then letters, digits or `_`.
fn valid_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LambdaSpec {
        LambdaSpec::new(
            "hfb-minilm",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/hfb:1",
            "arn:aws:iam::123456789012:role/hfb-lambda",
        )
    }

    #[test]
    fn defaults_are_valid() {
        spec().validate().unwrap();
    }

    type Change = Box<dyn Fn(&mut LambdaSpec)>;

    #[test]
    fn limits_are_checked() {
        let cases: Vec<(&str, Change)> = vec![
            ("name", Box::new(|s| s.name = "has space".into())),
            ("name", Box::new(|s| s.name = "x".repeat(65))),
            ("image", Box::new(|s| s.image_uri = " ".into())),
            ("role", Box::new(|s| s.role_arn = "hfb-lambda".into())),
            ("memory", Box::new(|s| s.memory_mb = 64)),
            ("memory", Box::new(|s| s.memory_mb = 10_241)),
            ("timeout", Box::new(|s| s.timeout_s = 0)),
            ("timeout", Box::new(|s| s.timeout_s = 901)),
            (
                "env",
                Box::new(|s| {
                    s.env.insert("1BAD".into(), "x".into());
                }),
            ),
            (
                "env size",
                Box::new(|s| {
                    s.env.insert("BIG".into(), "x".repeat(MAX_ENV_BYTES));
                }),
            ),
            (
                "concurrency",
                Box::new(|s| {
                    s.reserved_concurrency = Some(2);
                    s.provisioned_concurrency = Some(3);
                }),
            ),
        ];
        for (what, change) in cases {
            let mut s = spec();
            change(&mut s);
            assert!(
                matches!(s.validate(), Err(LambdaError::InvalidParameter(_))),
                "{what}: {s:?} must be rejected"
            );
        }
    }

    #[test]
    fn spec_serializes_for_the_deployment_manifest() {
        let mut s = spec();
        s.env.insert("HF_TASK".into(), "feature-extraction".into());
        s.architecture = Architecture::Arm64;
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["architecture"], "arm64");
        assert_eq!(json["url_auth"], "aws_iam");
        let back: LambdaSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
