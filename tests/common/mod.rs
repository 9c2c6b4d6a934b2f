//! Shared by the integration tests: a fresh AWS account on the emulator for each test, the
//! built binary wired to it, and SDK clients to read back what AWS holds.
//!
//! `scripts/test` starts the emulator and sets GH_OIDC_TEST_ENDPOINT; without it these tests
//! fail, never skip.
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod proxy;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;
use aws_config::BehaviorVersion;
use aws_sdk_cloudformation::config::Credentials;
use tempfile::TempDir;

pub const REGION: &str = "us-east-1";
pub const PROFILE: &str = "test";
pub const PROVIDER_URL: &str = "https://token.actions.githubusercontent.com";

pub fn endpoint() -> String {
    std::env::var("GH_OIDC_TEST_ENDPOINT")
        .expect("GH_OIDC_TEST_ENDPOINT is not set: run the tests with scripts/test, which starts the emulator")
}

/// One isolated AWS account on the emulator (its id is the 12-digit access key), with an
/// AWS config directory holding a profile for it.
pub struct TestAccount {
    pub id: String,
    dir: TempDir,
}

impl TestAccount {
    pub fn new() -> TestAccount {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Random per run and per test, so re-runs against a long-lived emulator do not collide.
        let seed = RandomState::new().hash_one((std::process::id(), n, std::time::SystemTime::now()));
        let id = format!("{}{:011}", 1 + seed % 9, seed % 100_000_000_000);
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("config"), format!("[profile {PROFILE}]\nregion = {REGION}\n")).unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            format!("[{PROFILE}]\naws_access_key_id = {id}\naws_secret_access_key = test\n"),
        )
        .unwrap();
        TestAccount { id, dir }
    }

    /// The binary, with this account's profile and nothing from the developer's environment.
    pub fn gh_oidc(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare(args);
        cmd.env("AWS_ENDPOINT_URL", endpoint()).args(["--profile", PROFILE]);
        cmd
    }

    /// Runs the binary like `gh_oidc` and insists that it succeeds (exit 0).
    pub fn succeed(&self, args: &[&str]) -> std::process::Output {
        let out = self.gh_oidc(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "gh-oidc {args:?}: {}", stderr(&out));
        out
    }

    /// The binary with this account's config files but no endpoint and no profile flag.
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.command(assert_cmd::cargo::cargo_bin("gh-oidc")));
        cmd.args(args);
        cmd
    }

    /// `program` in the environment the binary runs in: this account's config files, nothing
    /// of the developer's own AWS settings, no colour.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        for key in [
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
        ] {
            cmd.env_remove(key);
        }
        cmd.env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("credentials"))
            .env("NO_COLOR", "1");
        cmd
    }

    async fn config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(Credentials::new(&self.id, "test", None, None, "tests"))
            .endpoint_url(endpoint())
            .load()
            .await
    }

    pub async fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config().await)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config().await)
    }

    pub fn provider_arn(&self) -> String {
        format!("arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com", self.id)
    }

    /// The stack's status, or `None` when there is no such stack.
    pub async fn stack_status(&self, name: &str) -> Option<String> {
        let cfn = self.cloudformation().await;
        match cfn.describe_stacks().stack_name(name).send().await {
            Ok(r) => r.stacks()[0].stack_status().map(|s| s.as_str().to_string()),
            Err(e) => {
                let text = format!("{:?}", e);
                assert!(text.contains("does not exist"), "DescribeStacks failed: {text}");
                None
            }
        }
    }

    pub async fn change_set_count(&self, stack: &str) -> usize {
        let cfn = self.cloudformation().await;
        let listed = cfn.list_change_sets().stack_name(stack).send().await.expect("ListChangeSets");
        listed.summaries().len()
    }

    /// The account's OIDC provider ARNs. An `unknown` ARN means the emulator's test plugin
    /// did not load and CloudFormation faked the provider: fail loudly.
    pub async fn provider_arns(&self) -> Vec<String> {
        let listed =
            self.iam().await.list_open_id_connect_providers().send().await.expect("ListOpenIDConnectProviders");
        let arns: Vec<String> =
            listed.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).map(String::from).collect();
        assert!(!arns.iter().any(|a| a.contains("unknown")), "the emulator faked the provider: {arns:?}");
        arns
    }

    /// The role's trust policy as JSON.
    pub async fn trust_policy(&self, role: &str) -> serde_json::Value {
        let got = self.iam().await.get_role().role_name(role).send().await.expect("GetRole");
        let document = got.role().and_then(|r| r.assume_role_policy_document()).expect("a trust policy");
        // IAM returns the document URL-encoded.
        let decoded = percent_encoding::percent_decode_str(document).decode_utf8().unwrap();
        serde_json::from_str(&decoded).expect("the trust policy is JSON")
    }

    pub async fn role_exists(&self, role: &str) -> bool {
        self.iam().await.get_role().role_name(role).send().await.is_ok()
    }
}

/// A unique name for stacks and roles, as the emulator's state is shared.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = RandomState::new().hash_one((std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    format!("{prefix}-{:08x}", seed as u32)
}

/// stdout of a finished command, as a string.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn cfn_lint() -> PathBuf {
    PathBuf::from(
        std::env::var("GH_OIDC_TEST_CFN_LINT")
            .expect("GH_OIDC_TEST_CFN_LINT is not set: run the tests with scripts/test"),
    )
}

/// Runs the binary on a real pseudo-terminal (util-linux `script`) and answers its prompt.
/// `colour` leaves NO_COLOR unset, as on a developer's terminal.
pub fn on_a_terminal(account: &TestAccount, args: &[&str], answer: &str, colour: bool) -> std::process::Output {
    use std::io::{Read, Write};
    use std::process::Stdio;

    let binary = assert_cmd::cargo::cargo_bin("gh-oidc");
    let mut line = format!("'{}'", binary.display());
    for arg in args.iter().chain(&["--profile", PROFILE]) {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut script = account.command("script");
    script.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    script.env("AWS_ENDPOINT_URL", endpoint());
    if colour {
        script.env_remove("NO_COLOR");
    }
    script.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = script.spawn().expect("util-linux `script` runs");

    // Read the screen until the question shows, then type the answer.
    let mut screen = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let asked = |screen: &[u8]| {
        let screen = String::from_utf8_lossy(screen);
        screen.contains("[y/N]") || screen.contains("to go ahead:")
    };
    while !asked(&seen) {
        let n = screen.read(&mut buf).unwrap();
        assert!(n > 0, "the prompt never showed:\n{}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    screen.read_to_end(&mut seen).unwrap();
    let mut output = child.wait_with_output().unwrap();
    output.stdout = seen;
    output
}

/// Steers the emulator's provider handlers for this account: `delay` (seconds every handler
/// waits) or `fail-delete`.
fn control(account: &TestAccount, name: &str, value: Option<&str>) {
    let dir = std::env::var("GH_OIDC_EMULATOR_CONTROL_DIR")
        .expect("GH_OIDC_EMULATOR_CONTROL_DIR is not set: run the tests with scripts/test");
    let path = std::path::Path::new(&dir).join(format!("{}.{name}", account.id));
    match value {
        Some(v) => std::fs::write(path, v).unwrap(),
        None => std::fs::remove_file(path).unwrap(),
    }
}

/// Makes stack operations on the provider take `seconds`, so they can be met in progress.
pub fn slow_down(account: &TestAccount, seconds: f64) {
    control(account, "delay", Some(&seconds.to_string()));
}

/// Makes deleting the provider fail (or work again).
pub fn fail_deletes(account: &TestAccount, fail: bool) {
    control(account, "fail-delete", fail.then_some("1"));
}

/// Makes updating the provider fail (or work again), so an update rolls back.
pub fn fail_updates(account: &TestAccount, fail: bool) {
    control(account, "fail-update", fail.then_some("1"));
}

/// Polls (up to 30 s) until the stack's status is `status`.
pub async fn wait_for_status(account: &TestAccount, stack: &str, status: &str) {
    for _ in 0..300 {
        if account.stack_status(stack).await.as_deref() == Some(status) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("stack {stack} never reached {status}");
}

/// Polls (up to 30 s) until the change set can be executed.
pub async fn wait_for_change_set(account: &TestAccount, id: &str) {
    let cfn = account.cloudformation().await;
    for _ in 0..300 {
        let described = cfn.describe_change_set().change_set_name(id).send().await.unwrap();
        if described.execution_status().map(|s| s.as_str()) == Some("AVAILABLE") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("change set {id} never became available");
}

/// How text output shows `text` without `--show-account`.
pub fn masked(text: &str) -> String {
    gh_oidc::ui::mask_account_ids(text)
}

/// Sends `signal` (`INT`, `TERM`) to a running binary, as a terminal or a CI runner would.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -{signal} failed");
}
