//! `LambdaClient` against moto_server's Lambda and IAM APIs (`HFB_TEST_LAMBDA_ENDPOINT`,
//! default http://127.0.0.1:5055; `scripts/test.sh` starts it). Every test uses its own
//! role and function names, so runs and parallel tests never collide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use hfb_cloud::{
    Architecture, FunctionState, LIVE_ALIAS, LambdaClient, LambdaError, LambdaSpec, UrlAuth,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hfb-minilm:1";
const IMAGE_2: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hfb-minilm:2";

fn endpoint() -> String {
    std::env::var("HFB_TEST_LAMBDA_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5055".into())
}

fn client_for(endpoint: &str) -> LambdaClient {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "hfb-tests"))
        .build();
    LambdaClient::new(aws_sdk_lambda::Client::from_conf(config))
        .with_settle_timeout(Duration::from_secs(30))
}

fn unique(kind: &str) -> String {
    format!(
        "hfb-test-{kind}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates an IAM role on moto and returns its ARN: moto's CreateFunction requires the
/// execution role to exist. moto routes a request by the service in the credential scope
/// of its Authorization header and does not verify signatures, so a plain form POST is
/// enough (and saves building aws-sdk-iam for one call).
async fn create_role() -> String {
    let name = unique("role");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
        percent_encode(policy)
    );
    let url = endpoint();
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap_or_else(|e| {
        panic!(
            "moto_server is not reachable at HFB_TEST_LAMBDA_ENDPOINT ({url}): {e}. Start it with \
             `pip install 'moto[server]' && moto_server -H 127.0.0.1 -p 5055` (scripts/test.sh \
             does this through scripts/lib/moto.sh)"
        )
    });
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/iam/aws4_request, \
         SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "CreateRole on moto failed:\n{response}"
    );
    let arn = response
        .split("<Arn>")
        .nth(1)
        .and_then(|rest| rest.split("</Arn>").next())
        .unwrap_or_else(|| panic!("no <Arn> in CreateRole response:\n{response}"));
    assert!(arn.ends_with(&format!(":role/{name}")), "{arn}");
    arn.to_owned()
}

fn spec(name: &str, role: &str) -> LambdaSpec {
    let mut spec = LambdaSpec::new(name, IMAGE, role);
    spec.memory_mb = 512;
    spec.timeout_s = 30;
    spec.env
        .insert("HF_TASK".into(), "feature-extraction".into());
    spec
}

#[tokio::test]
async fn create_state_url_update_concurrency_delete() {
    let lambda = client_for(&endpoint());
    let role = create_role().await;
    let name = unique("fn");
    let mut spec = spec(&name, &role);
    spec.architecture = Architecture::Arm64;

    let created = lambda.create_function(&spec).await.unwrap();
    assert_eq!(created.name, name);
    assert!(
        created.arn.ends_with(&format!(":function:{name}")),
        "{}",
        created.arn
    );
    assert_eq!(created.memory_mb, Some(512));
    assert_eq!(created.timeout_s, Some(30));
    assert_eq!(
        created.env.get("HF_TASK").map(String::as_str),
        Some("feature-extraction")
    );
    assert_eq!(created.architecture, Some(Architecture::Arm64));
    assert_eq!(created.image_uri.as_deref(), Some(IMAGE));
    assert_eq!(created.role_arn.as_deref(), Some(role.as_str()));

    // State: moto makes functions Active at once; real Lambda passes through Pending.
    let ready = lambda.wait_until_ready(&name).await.unwrap();
    assert_eq!(ready.state, FunctionState::Active);
    assert!(ready.is_ready());

    // Function URL: none yet, then created, found, and its auth changed.
    assert_eq!(lambda.function_url(&name, None).await.unwrap(), None);
    let url = lambda
        .create_function_url(&name, None, UrlAuth::AwsIam)
        .await
        .unwrap();
    assert!(
        url.url.starts_with("https://") && url.url.contains(".lambda-url."),
        "{}",
        url.url
    );
    assert_eq!(url.auth, UrlAuth::AwsIam);
    assert_eq!(
        lambda.function_url(&name, None).await.unwrap(),
        Some(url.clone())
    );
    // (Lambda refuses a second CreateFunctionUrlConfig with a conflict; moto overwrites,
    // so `ensure_function_url` is what callers use.)
    let public = lambda
        .ensure_function_url(&name, None, UrlAuth::None)
        .await
        .unwrap();
    assert_eq!(
        (public.url.as_str(), public.auth),
        (url.url.as_str(), UrlAuth::None)
    );
    assert_eq!(
        lambda
            .function_url(&name, None)
            .await
            .unwrap()
            .unwrap()
            .auth,
        UrlAuth::None
    );

    // Update memory and env, then the image.
    spec.memory_mb = 2048;
    spec.env.insert("HFB_REVISION".into(), "abc123".into());
    spec.env.remove("HF_TASK");
    let updated = lambda.update_configuration(&spec).await.unwrap();
    assert_eq!(updated.memory_mb, Some(2048));
    assert_eq!(updated.env.len(), 1);
    assert_eq!(
        updated.env.get("HFB_REVISION").map(String::as_str),
        Some("abc123")
    );
    spec.image_uri = IMAGE_2.into();
    let recoded = lambda.update_code(&spec).await.unwrap();
    assert_eq!(recoded.image_uri.as_deref(), Some(IMAGE_2));
    assert!(lambda.wait_until_ready(&name).await.unwrap().is_ready());

    // Reserved concurrency: set, read back both ways, removed.
    lambda
        .set_reserved_concurrency(&name, Some(5))
        .await
        .unwrap();
    assert_eq!(lambda.reserved_concurrency(&name).await.unwrap(), Some(5));
    assert_eq!(
        lambda
            .get_function(&name)
            .await
            .unwrap()
            .unwrap()
            .reserved_concurrency,
        Some(5)
    );
    lambda.set_reserved_concurrency(&name, None).await.unwrap();
    assert_eq!(lambda.reserved_concurrency(&name).await.unwrap(), None);

    // Delete, then delete again: fine, and everything about it is gone.
    lambda.delete_function_url(&name, None).await.unwrap();
    assert_eq!(lambda.function_url(&name, None).await.unwrap(), None);
    lambda.delete_function_url(&name, None).await.unwrap();
    assert!(lambda.delete_function(&name).await.unwrap());
    assert_eq!(lambda.get_function(&name).await.unwrap(), None);
    assert!(!lambda.delete_function(&name).await.unwrap());
    let err = lambda.wait_until_ready(&name).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn creating_twice_is_a_typed_conflict() {
    let lambda = client_for(&endpoint());
    let role = create_role().await;
    let name = unique("fn");
    lambda.create_function(&spec(&name, &role)).await.unwrap();
    let err = lambda
        .create_function(&spec(&name, &role))
        .await
        .unwrap_err();
    match &err {
        LambdaError::Conflict(message) => assert!(message.contains(&name), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(lambda.delete_function(&name).await.unwrap());
}

#[tokio::test]
async fn bad_parameters_and_missing_functions_are_typed() {
    let lambda = client_for(&endpoint());
    let name = unique("fn");

    // Refused by AWS (moto): a well-formed ARN of a role that does not exist.
    let ghost = spec(&name, "arn:aws:iam::123456789012:role/hfb-no-such-role");
    let err = lambda.create_function(&ghost).await.unwrap_err();
    assert_eq!(
        err,
        LambdaError::InvalidParameter(
            "The role defined for the function cannot be assumed by Lambda.".into()
        )
    );
    assert!(!err.is_retryable());
    assert_eq!(
        lambda.get_function(&name).await.unwrap(),
        None,
        "a refused create left a function"
    );

    // Refused before any call: outside Lambda's limits.
    let mut tiny = spec(&name, "arn:aws:iam::123456789012:role/any");
    tiny.memory_mb = 64;
    let err = lambda.create_function(&tiny).await.unwrap_err();
    assert!(
        matches!(err, LambdaError::InvalidParameter(ref m) if m.contains("memory")),
        "{err:?}"
    );

    // Calls on a function that does not exist.
    let missing = spec(&name, "arn:aws:iam::123456789012:role/any");
    for err in [
        lambda.update_configuration(&missing).await.unwrap_err(),
        lambda.update_code(&missing).await.unwrap_err(),
        lambda
            .set_reserved_concurrency(&name, Some(1))
            .await
            .unwrap_err(),
        lambda
            .create_function_url(&name, None, UrlAuth::AwsIam)
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_not_found(), "{err:?}");
    }
}

#[tokio::test]
async fn deploy_creates_then_updates_through_the_live_alias() {
    let lambda = client_for(&endpoint());
    let role = create_role().await;
    let name = unique("fn");
    let mut spec = spec(&name, &role);
    spec.reserved_concurrency = Some(3);

    let first = lambda.deploy(&spec).await.unwrap();
    assert!(first.created);
    assert_eq!(first.function.state, FunctionState::Active);
    assert_eq!(first.function.reserved_concurrency, Some(3));
    assert_eq!(
        lambda.alias_version(&name, LIVE_ALIAS).await.unwrap(),
        Some(first.version.clone())
    );
    let url = first.url.clone().unwrap();
    assert_eq!(url.auth, UrlAuth::AwsIam);

    // A second deploy with the same spec changes nothing visible but is fine.
    let same = lambda.deploy(&spec).await.unwrap();
    assert!(!same.created);
    assert_eq!(same.url, first.url);

    // Scaling and image change: updated in place, a new version goes live.
    spec.memory_mb = 3008;
    spec.image_uri = IMAGE_2.into();
    spec.reserved_concurrency = None;
    spec.url_auth = Some(UrlAuth::None);
    let second = lambda.deploy(&spec).await.unwrap();
    assert!(!second.created);
    assert_ne!(second.version, first.version);
    assert_eq!(
        lambda.alias_version(&name, LIVE_ALIAS).await.unwrap(),
        Some(second.version.clone())
    );
    assert_eq!(second.function.memory_mb, Some(3008));
    assert_eq!(second.function.image_uri.as_deref(), Some(IMAGE_2));
    assert_eq!(second.function.reserved_concurrency, None);
    assert_eq!(second.url.as_ref().unwrap().auth, UrlAuth::None);

    // Rollback is pointing the alias back.
    lambda
        .point_alias(&name, LIVE_ALIAS, &first.version)
        .await
        .unwrap();
    assert_eq!(
        lambda.alias_version(&name, LIVE_ALIAS).await.unwrap(),
        Some(first.version)
    );

    // No URL wanted: removed.
    spec.url_auth = None;
    let third = lambda.deploy(&spec).await.unwrap();
    assert_eq!(third.url, None);
    assert_eq!(
        lambda.function_url(&name, Some(LIVE_ALIAS)).await.unwrap(),
        None
    );

    assert!(lambda.delete_function(&name).await.unwrap());
    assert!(!lambda.delete_function(&name).await.unwrap());
}

#[tokio::test]
async fn provisioned_concurrency_is_not_implemented_by_moto() {
    // moto 5.x has no route for the provisioned-concurrency API (HTTP 404 without an AWS
    // error code). This pins down how the client reports that; when moto implements it,
    // turn this into a test of the setting.
    let lambda = client_for(&endpoint());
    let role = create_role().await;
    let name = unique("fn");
    let mut spec = spec(&name, &role);
    spec.provisioned_concurrency = Some(2);
    let err = lambda.deploy(&spec).await.unwrap_err();
    assert!(
        matches!(err, LambdaError::Unsupported(ref m) if m.contains("PutProvisionedConcurrencyConfig")),
        "{err:?}"
    );
    // Removing a setting the endpoint cannot hold is a no-op, so scale-to-zero deploys work.
    lambda
        .set_provisioned_concurrency(&name, LIVE_ALIAS, None)
        .await
        .unwrap();
    assert!(lambda.delete_function(&name).await.unwrap());
}

#[tokio::test]
async fn unreachable_endpoint_is_retryable() {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(Credentials::new("test", "test", None, None, "hfb-tests"))
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
        .build();
    let lambda = LambdaClient::new(aws_sdk_lambda::Client::from_conf(config));
    let err = lambda.get_function("anything").await.unwrap_err();
    assert!(
        matches!(err, LambdaError::Unavailable(_)) && err.is_retryable(),
        "{err:?}"
    );
}
