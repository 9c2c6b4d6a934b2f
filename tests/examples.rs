//! The shell scripts in examples/ run as written against the emulator.

mod common;

use std::path::Path;

use common::{TestAccount, stderr, stdout};

fn example(account: &TestAccount, script: &str, args: &[&str]) -> std::process::Output {
    let binary = assert_cmd::cargo::cargo_bin("gh-oidc");
    let path = format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = account.command("bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(script)).args(args);
    cmd.env("AWS_ENDPOINT_URL", common::endpoint()).env("PATH", path).output().expect("bash runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_scenarios_run_as_shell_scripts() {
    let account = TestAccount::new();
    let role = common::unique("gha-example");

    let out = example(&account, "provider-for-profiles.sh", &[common::PROFILE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);

    let out = example(&account, "role-for-repository.sh", &[common::PROFILE, "acme/app", &role]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("role-to-assume for the workflow: arn:aws:iam::{}:role/{role}\n", account.id));
    let policy = account.trust_policy(&role).await;
    assert_eq!(policy["Statement"][0]["Principal"]["Federated"], account.provider_arn());

    let out = example(&account, "teardown.sh", &[common::PROFILE, &role]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!account.role_exists(&role).await);
    assert!(account.provider_arns().await.is_empty());
    assert_eq!(account.stack_status("gh-oidc-provider").await, None);
}
