//! Never leave a mess: shared trust protected at teardown.

mod common;

use common::{TestAccount, stderr, stdout, unique};
use serde_json::Value;

async fn termination_protection(account: &TestAccount, stack: &str) -> bool {
    let described = account.cloudformation().await.describe_stacks().stack_name(stack).send().await.unwrap();
    described.stacks()[0].enable_termination_protection().unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_stack_is_protected_and_outlives_the_roles_that_trust_it() {
    let account = TestAccount::new();
    let out = account.gh_oidc(&["setup", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Termination protection is on for gh-oidc-provider"), "{}", stderr(&out));
    assert!(termination_protection(&account, "gh-oidc-provider").await);

    let role = unique("gha-trusting");
    let out = account
        .gh_oidc(&[
            "setup",
            "--role-name",
            &role,
            "--repo",
            "acme/app",
            "--pull-request",
            "--repository-id",
            "1",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A role stack does not hold the provider and is not protected.
    assert!(!termination_protection(&account, &role).await);

    let out = account.gh_oidc(&["teardown", "--stack-name", "gh-oidc-provider", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "error: 1 role(s) outside stack gh-oidc-provider still trust its provider: {role}; tear them down first"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(account.stack_status("gh-oidc-provider").await.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);

    // Both at once, provider named first: the role goes first, then the provider.
    let out = account
        .gh_oidc(&["teardown", "--stack-name", "gh-oidc-provider", "--stack-name", &role, "--yes", "--output", "json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let role_gone = err.find(&format!("Stack {role} is deleted.")).expect("role stack deleted");
    let provider_gone = err.find("Stack gh-oidc-provider is deleted.").expect("provider stack deleted");
    assert!(role_gone < provider_gone, "{err}");
    assert!(err.contains("Turned off the termination protection of gh-oidc-provider to delete it."), "{err}");
    let reports: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(reports[0]["stack_name"], role.as_str());
    assert_eq!(reports[1]["result"], "deleted");
    assert!(account.provider_arns().await.is_empty());
    assert!(!account.role_exists(&role).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn force_deletes_a_provider_that_a_role_outside_any_stack_trusts() {
    let account = TestAccount::new();
    let out = account.gh_oidc(&["setup", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": account.provider_arn()}, "Action": "sts:AssumeRoleWithWebIdentity"}]});
    account
        .iam()
        .await
        .create_role()
        .role_name("hand-made")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();

    let out = account.gh_oidc(&["teardown", "--stack-name", "gh-oidc-provider", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("still trust its provider: hand-made"), "{}", stderr(&out));

    let out = account.gh_oidc(&["teardown", "--stack-name", "gh-oidc-provider", "--force", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: --force: deleting the provider that hand-made still trust"),
        "{}",
        stderr(&out)
    );
    assert!(account.provider_arns().await.is_empty());
    assert_eq!(account.stack_status("gh-oidc-provider").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn retain_provider_deletes_a_combined_stack_but_keeps_its_provider() {
    let account = TestAccount::new();
    let role = unique("gha-combined");
    let out = account
        .gh_oidc(&[
            "setup",
            "--role-name",
            &role,
            "--repo",
            "acme/app",
            "--environment",
            "prod",
            "--repository-id",
            "1",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(termination_protection(&account, &role).await, "a stack holding the provider is protected");

    let out = account
        .gh_oidc(&["teardown", "--stack-name", &role, "--retain-provider", "--yes", "--output", "json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("Keeping the provider {}", account.provider_arn())), "{err}");
    let reports: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let actions: Vec<(&str, &str)> = reports[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["logical_id"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert!(
        actions.contains(&("GitHubOidcProvider", "Retain")) && actions.contains(&("GitHubActionsRole", "Remove")),
        "{actions:?}"
    );
    assert_eq!(account.stack_status(&role).await, None);
    assert!(!account.role_exists(&role).await);
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);
}
