//! Never leave a mess: every stack state met for real and handled, interruptions survived,
//! shared trust protected at teardown.

mod common;

use std::process::Stdio;

use common::{TestAccount, stderr, stdout, unique};
use serde_json::Value;

/// The template the binary renders for `args`, as CloudFormation would receive it.
fn rendered(account: &TestAccount, args: &[&str]) -> String {
    let out = account.bare(&[&["render"], args].concat()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// The binary, started in the background with this account's profile.
fn spawn(account: &TestAccount, args: &[&str]) -> std::process::Child {
    account
        .command(assert_cmd::cargo::cargo_bin("gh-oidc"))
        .env("AWS_ENDPOINT_URL", common::endpoint())
        .args(args)
        .args(["--profile", common::PROFILE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_left_under_review_is_cleared_then_created() {
    let account = TestAccount::new();
    let cfn = account.cloudformation().await;
    let stack = unique("reviewed");
    let template = rendered(&account, &[]);
    // What an interrupted run leaves: an empty stack under review with gh-oidc's change set.
    cfn.create_change_set()
        .stack_name(&stack)
        .change_set_name("left-behind")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(&template)
        .description("Planned by gh-oidc")
        .send()
        .await
        .unwrap();
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("REVIEW_IN_PROGRESS"));

    // A plan leaves it as it was.
    account.succeed(&["plan", "--stack-name", &stack]);
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("REVIEW_IN_PROGRESS"));
    assert_eq!(account.change_set_count(&stack).await, 1);

    let out = account.gh_oidc(&["setup", "--stack-name", &stack, "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("Stack {stack} was left empty, under review, by an earlier run: deleting it first.")),
        "{err}"
    );
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_someone_else_is_reviewing_is_left_alone() {
    let account = TestAccount::new();
    let stack = unique("foreign");
    account
        .cloudformation()
        .await
        .create_change_set()
        .stack_name(&stack)
        .change_set_name("colleagues-review")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(rendered(&account, &[]))
        .send()
        .await
        .unwrap();
    let out = account.gh_oidc(&["setup", "--stack-name", &stack, "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("change set(s) gh-oidc did not make (colleagues-review): someone may be reviewing it")
    );
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("REVIEW_IN_PROGRESS"));
    assert_eq!(account.change_set_count(&stack).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_creation_is_explained_then_replaced_on_request() {
    let account = TestAccount::new();
    let iam = account.iam().await;
    let stack = unique("failed");
    let role = unique("taken");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let args =
        ["--stack-name", &stack, "--role-name", &role, "--repo", "acme/app", "--pull-request", "--repository-id", "1"];
    // Made by hand, not by gh-oidc (which would delete it): a stack whose creation rolled back.
    let cfn = account.cloudformation().await;
    let made = cfn
        .create_change_set()
        .stack_name(&stack)
        .change_set_name("by-hand")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(rendered(&account, &args))
        .send()
        .await
        .unwrap();
    common::wait_for_change_set(&account, made.id().unwrap()).await;
    cfn.execute_change_set().change_set_name(made.id().unwrap()).send().await.unwrap();
    common::wait_for_status(&account, &stack, "ROLLBACK_COMPLETE").await;

    let out = account.gh_oidc(&[&["setup", "--yes"], &args[..]].concat()).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("stack '{stack}' is ROLLBACK_COMPLETE: its creation failed (GitHubActionsRole (AWS::IAM::Role) CREATE_FAILED:")),
        "{err}"
    );
    assert!(err.contains(&format!("Role with name {role} already exists")), "{err}");
    assert!(err.contains("and it holds nothing; pass --replace-failed"), "{err}");
    let out = account.gh_oidc(&[&["plan"], &args[..]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`gh-oidc setup --replace-failed` deletes it"), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("ROLLBACK_COMPLETE"));

    iam.delete_role().role_name(&role).send().await.unwrap();
    let out = account.gh_oidc(&[&["setup", "--yes", "--replace-failed"], &args[..]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("replacing it (--replace-failed)"), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("CREATE_COMPLETE"));
    assert!(account.role_exists(&role).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_follows_the_first_then_finds_nothing_to_do() {
    let account = TestAccount::new();
    common::slow_down(&account, 3.0);
    let first = spawn(&account, &["setup", "--yes"]);
    common::wait_for_status(&account, "gh-oidc-provider", "CREATE_IN_PROGRESS").await;

    let out = account.gh_oidc(&["setup", "--yes", "--no-wait"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is CREATE_IN_PROGRESS: another operation is running"), "{}", stderr(&out));

    let out = account.gh_oidc(&["setup", "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("Stack gh-oidc-provider is CREATE_IN_PROGRESS: following that operation to its end first."),
        "{err}"
    );
    assert!(err.contains("GitHubOidcProvider       AWS::IAM::OIDCProvider     CREATE_COMPLETE"), "{err}");
    assert!(err.contains("No changes"), "{err}");

    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(account.stack_status("gh-oidc-provider").await.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_while_executing_leaves_the_stack_going_and_says_how_to_follow() {
    let account = TestAccount::new();
    common::slow_down(&account, 2.0);
    let child = spawn(&account, &["setup", "--yes"]);
    common::wait_for_status(&account, "gh-oidc-provider", "CREATE_IN_PROGRESS").await;
    common::send_signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "error: interrupted (SIGTERM); the stack operation goes on in AWS: follow it with `gh-oidc status --follow --stack-name gh-oidc-provider`"
        ),
        "{}",
        stderr(&out)
    );

    let out = account.succeed(&["status", "--stack-name", "gh-oidc-provider", "--follow"]);
    assert!(stdout(&out).starts_with("StackStatus = CREATE_COMPLETE\n"), "{}", stdout(&out));
}

async fn termination_protection(account: &TestAccount, stack: &str) -> bool {
    let described = account.cloudformation().await.describe_stacks().stack_name(stack).send().await.unwrap();
    described.stacks()[0].enable_termination_protection().unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_stack_is_protected_and_outlives_the_roles_that_trust_it() {
    let account = TestAccount::new();
    let out = account.succeed(&["setup", "--yes"]);
    assert!(stderr(&out).contains("Termination protection is on for gh-oidc-provider"), "{}", stderr(&out));
    assert!(termination_protection(&account, "gh-oidc-provider").await);

    let role = unique("gha-trusting");
    account.succeed(&[
        "setup",
        "--role-name",
        &role,
        "--repo",
        "acme/app",
        "--pull-request",
        "--repository-id",
        "1",
        "--yes",
    ]);
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
    account.succeed(&["setup", "--yes"]);
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

    let out = account.succeed(&["teardown", "--stack-name", "gh-oidc-provider", "--force", "--yes"]);
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
    account.succeed(&[
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
    ]);
    assert!(termination_protection(&account, &role).await, "a stack holding the provider is protected");

    let out = account
        .gh_oidc(&["teardown", "--stack-name", &role, "--retain-provider", "--yes", "--output", "json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("Keeping the provider {}", common::masked(&account.provider_arn()))), "{err}");
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

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_that_fails_to_delete_is_reported_with_its_reason() {
    let account = TestAccount::new();
    account.succeed(&["setup", "--yes"]);
    common::fail_deletes(&account, true);

    let out = account.gh_oidc(&["teardown", "--stack-name", "gh-oidc-provider", "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // AWS ends such a stack DELETE_FAILED; the emulator deletes the stack regardless. Either way
    // the user hears which resource stayed, and why.
    assert!(
        err.contains("GitHubOidcProvider (AWS::IAM::OIDCProvider) DELETE_FAILED: the test harness refuses to delete this provider"),
        "{err}"
    );
    assert!(!err.contains("Stack gh-oidc-provider is deleted."), "{err}");
    assert_eq!(account.provider_arns().await, [account.provider_arn()]);
    common::fail_deletes(&account, false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_update_rolls_back_and_reports_its_cause() {
    let account = TestAccount::new();
    account.succeed(&["setup", "--yes"]);

    common::fail_updates(&account, true);
    let out = account.gh_oidc(&["setup", "--audience", "custom-aud", "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.lines().last().unwrap(),
        "error: stack 'gh-oidc-provider' ended UPDATE_ROLLBACK_COMPLETE: GitHubOidcProvider (AWS::IAM::OIDCProvider) \
         UPDATE_FAILED: the test harness refuses to update this provider"
    );
    assert_eq!(account.stack_status("gh-oidc-provider").await.as_deref(), Some("UPDATE_ROLLBACK_COMPLETE"));
    assert_eq!(
        account.change_set_count("gh-oidc-provider").await,
        0,
        "the executed change set is history, not a leftover"
    );
    // (Retrying from UPDATE_ROLLBACK_COMPLETE is not checked here: the emulator keeps the failed
    // template and a broken resource state after a failed update, where AWS rolls both back.)
    common::fail_updates(&account, false);
}
