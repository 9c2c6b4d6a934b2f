//! Everything that talks to AWS: one module per service, each returning plain data.
//!
//! `connect` turns the AWS flags into clients for one account and region, checking the
//! profile, region and credentials first so that their errors name the fix.

pub mod cloudformation;
pub mod iam;
pub mod sts;

use std::fmt::Debug;

use aws_config::BehaviorVersion;
use aws_sdk_cloudformation::config::ProvideCredentials;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;

use crate::cli::AwsArgs;
use crate::error::Error;
use crate::issuer::Partition;

/// Clients for one account and region.
#[derive(Debug, Clone)]
pub struct Account {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
}

/// Where the AWS flags point, read from the flags, the environment and the AWS config files
/// alone: nothing is sent anywhere, so its errors come before any request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub profile: Option<String>,
    pub region: String,
}

impl Target {
    pub fn partition(&self) -> Partition {
        Partition::of_region(&self.region)
    }
}

pub async fn locate(args: &AwsArgs) -> Result<Target, Error> {
    if let Some(url) = &args.shared.endpoint_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(Error::input(format!(
            "--endpoint-url '{url}': give a full URL such as https://cloudformation.us-east-1.amazonaws.com"
        )));
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let profile = args.profile.clone().or_else(|| env("AWS_PROFILE"));
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None).await.ok();
    let profile_region = |name: &str| {
        profiles.as_ref().and_then(|set| set.get_profile(name)).and_then(|p| p.get("region")).map(str::to_string)
    };
    if let Some(name) = &profile
        && profiles.as_ref().and_then(|set| set.get_profile(name)).is_none()
    {
        let source = if args.profile.is_some() { "--profile" } else { "AWS_PROFILE" };
        return Err(Error::input(format!(
            "{source} '{name}': no such profile in the AWS config or credentials files; \
             `aws configure list-profiles` lists them"
        )));
    }
    let region = args
        .shared
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| profile_region(profile.as_deref().unwrap_or("default")))
        .ok_or_else(|| {
            let from_profile = profile.as_ref().map(|p| format!(" or a region in profile '{p}'")).unwrap_or_default();
            Error::input(format!("--region: no AWS region is set; pass --region or set AWS_REGION{from_profile}"))
        })?;
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(Error::input(format!("--region '{region}': expected a region name such as us-east-1")));
    }
    Ok(Target { profile, region })
}

/// Clients for `target`, once its credentials resolve.
pub async fn connect(args: &AwsArgs, target: Target) -> Result<Account, Error> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(target.region.clone()));
    if let Some(name) = &target.profile {
        loader = loader.profile_name(name);
    }
    if let Some(url) = &args.shared.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;

    // Resolving credentials here, once, turns "no credentials" into a clear error before any
    // request is built; the SDK caches them for the calls that follow.
    let profile = target.profile.as_deref();
    let credentials = config.credentials_provider().ok_or_else(|| Error::aws(no_credentials(profile)))?;
    if let Err(e) = credentials.provide_credentials().await {
        tracing::debug!(error = %DisplayErrorContext(&e), "no credentials");
        return Err(Error::aws(no_credentials(profile)));
    }

    Ok(Account {
        cloudformation: aws_sdk_cloudformation::Client::new(&config),
        iam: aws_sdk_iam::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
        region: target.region,
    })
}

fn no_credentials(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!(
            "no usable AWS credentials for profile '{p}'; run `aws configure --profile {p}` or `aws sso login --profile {p}`"
        ),
        None => "no AWS credentials found; pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
    }
}

/// An AWS call that failed, described in one line with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct Failure {
    pub operation: &'static str,
    pub code: Option<String>,
    pub detail: String,
}

impl Failure {
    /// Throttling that outlasted the SDK's own retries; pollers back off and carry on.
    pub fn throttled(&self) -> bool {
        self.code.as_deref().is_some_and(is_throttling_code)
    }

    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        tracing::debug!(operation, error = %DisplayErrorContext(&err), "AWS call failed");
        let code = err.code().map(str::to_string);
        let detail = match &err {
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => format!(
                "could not reach AWS ({}); check the network, --endpoint-url and AWS_ENDPOINT_URL",
                innermost(&err)
            ),
            SdkError::TimeoutError(_) => "AWS did not answer in time; run again".to_string(),
            SdkError::ServiceError(_) => explain(code.as_deref(), err.message().unwrap_or_default()),
            _ => innermost(&err),
        };
        Failure { operation, code, detail }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        Error::aws(f.to_string())
    }
}

/// The first cause in an error chain, e.g. "Connection refused (os error 111)".
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

fn is_throttling_code(code: &str) -> bool {
    matches!(code, "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException")
}

/// The fix for the service errors users meet most.
fn explain(code: Option<&str>, message: &str) -> String {
    match code {
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => match missing_permission(message) {
            Some(action) => format!("access denied: the caller may not {action}; allow it in the caller's IAM policy"),
            None => format!("access denied ({message}); allow this operation in the caller's IAM policy"),
        },
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => {
            "the AWS credentials have expired; refresh them (e.g. `aws sso login`) and run again".into()
        }
        Some(
            code @ ("InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "IncompleteSignature"),
        ) => format!("AWS rejected the credentials ({code}); check the profile's access key and secret"),
        Some(code) if is_throttling_code(code) => format!(
            "AWS kept throttling requests after retries ({code}); wait a minute and run again, or raise AWS_MAX_ATTEMPTS"
        ),
        Some(code) => format!("{code}: {message}"),
        None => message.to_string(),
    }
}

/// `...is not authorized to perform: cloudformation:CreateChangeSet on resource...`
fn missing_permission(message: &str) -> Option<&str> {
    let rest = message.split_once("perform: ")?.1;
    rest.split_whitespace().next().map(|a| a.trim_end_matches([',', '.']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_missing_permission() {
        let message = "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: \
                       cloudformation:CreateChangeSet on resource: arn:aws:cloudformation:us-east-1:111122223333:stack/x/*";
        assert_eq!(
            explain(Some("AccessDenied"), message),
            "access denied: the caller may not cloudformation:CreateChangeSet; allow it in the caller's IAM policy"
        );
        assert!(explain(Some("AccessDenied"), "nope").contains("(nope)"));
    }

    #[test]
    fn credential_and_throttling_errors_say_what_to_do() {
        assert!(explain(Some("ExpiredToken"), "").contains("aws sso login"));
        assert!(explain(Some("InvalidClientTokenId"), "").contains("check the profile's access key"));
        assert!(explain(Some("Throttling"), "Rate exceeded").contains("AWS_MAX_ATTEMPTS"));
        assert_eq!(explain(Some("ValidationError"), "bad"), "ValidationError: bad");
    }

    #[test]
    fn throttling_is_recognised() {
        let f = |code: &str| Failure { operation: "DescribeStacks", code: Some(code.into()), detail: String::new() };
        assert!(f("Throttling").throttled());
        assert!(f("RequestLimitExceeded").throttled());
        assert!(!f("ValidationError").throttled());
    }
}
