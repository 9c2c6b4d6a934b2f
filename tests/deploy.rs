//! The deploy flow end to end: the real binary against a real CloudFormation engine, with
//! what AWS holds afterwards read back through the API.

mod common;

use common::{TestAccount, stderr, stdout, unique};
use serde_json::{Value, json};

const THUMBPRINTS: [&str; 2] = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"];

fn trust(provider_arn: &str, operator: &str, subjects: &[&str]) -> Value {
    let mut condition = json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}});
    condition
        .as_object_mut()
        .unwrap()
        .entry(operator)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap()
        .insert("token.actions.githubusercontent.com:sub".into(), json!(subjects));
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition
        }]
    })
}

async fn create_provider_outside_stacks(account: &TestAccount, client_id: &str) -> String {
    let created = account
        .iam()
        .await
        .create_open_id_connect_provider()
        .url(common::PROVIDER_URL)
        .client_id_list(client_id)
        .thumbprint_list(THUMBPRINTS[0])
        .send()
        .await
        .expect("CreateOpenIDConnectProvider");
    created.open_id_connect_provider_arn().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_only_then_no_changes_then_teardown() {
    let account = TestAccount::new();

    let out = account.gh_oidc(&["setup", "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Add") && err.contains("GitHubOidcProvider"), "{err}");
    assert!(err.contains("Plan: 1 to add, 0 to change, 0 to remove."), "{err}");
    assert!(err.contains("GitHubOidcProvider       AWS::IAM::OIDCProvider     CREATE_COMPLETE"), "{err}");
    assert_eq!(stdout(&out), format!("ProviderArn = {}\n", common::masked(&account.provider_arn())));

    assert_eq!(account.provider_arns().await, [account.provider_arn()]);
    let provider = account
        .iam()
        .await
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(account.provider_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(provider.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(provider.thumbprint_list(), THUMBPRINTS);
    assert_eq!(account.stack_status("gh-oidc-provider").await.as_deref(), Some("CREATE_COMPLETE"));

    // Again: nothing to do, and no change set left behind.
    let out = account.succeed(&["setup", "--yes", "--output", "json"]);
    assert!(stderr(&out).contains("No changes"), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["result"], "no-changes");
    assert_eq!(report["outputs"]["ProviderArn"], account.provider_arn());
    assert_eq!(account.change_set_count("gh-oidc-provider").await, 0);

    let out = account.succeed(&["teardown", "--stack-name", "gh-oidc-provider", "--yes"]);
    assert!(stderr(&out).contains("DELETE_COMPLETE"), "{}", stderr(&out));
    assert_eq!(account.stack_status("gh-oidc-provider").await, None);
    assert!(account.provider_arns().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_reuses_the_provider_the_account_already_has() {
    let account = TestAccount::new();
    let provider = create_provider_outside_stacks(&account, "sts.amazonaws.com").await;

    let out = account
        .gh_oidc(&[
            "setup",
            "--repo-pattern",
            "repo:acme/app:ref:refs/heads/main",
            "--tag",
            "team=platform",
            "--yes",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("trusting the existing {}", common::masked(&provider))), "{err}");

    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["result"], "created");
    assert_eq!(report["stack_name"], "gh-oidc-acme-app");
    assert_eq!(report["region"], "us-east-1");
    assert_eq!(report["account"], format!("{}********{}", &account.id[..2], &account.id[10..]));
    assert!(report["stack_id"].as_str().unwrap().contains(":stack/gh-oidc-acme-app/"));
    assert_eq!(
        report["changes"],
        json!([{"action": "Add", "logical_id": "GitHubActionsRole", "resource_type": "AWS::IAM::Role",
                "physical_id": null, "replacement": null}])
    );
    assert_eq!(report["outputs"]["RoleName"], "gh-oidc-acme-app");
    assert_eq!(report["outputs"]["RoleArn"], format!("arn:aws:iam::{}:role/gh-oidc-acme-app", account.id));
    assert_eq!(report["outputs"]["ProviderArn"], provider);

    assert_eq!(
        account.trust_policy("gh-oidc-acme-app").await,
        trust(&provider, "StringEquals", &["repo:acme/app:ref:refs/heads/main"])
    );
    let stacks = account.cloudformation().await.describe_stacks().stack_name("gh-oidc-acme-app").send().await.unwrap();
    let tags: Vec<(&str, &str)> =
        stacks.stacks()[0].tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
    assert_eq!(tags, [("team", "platform")]);
    // Still one provider: the stack did not try to make a second.
    assert_eq!(account.provider_arns().await, [provider]);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_and_role_in_one_stack_updated_then_torn_down() {
    let account = TestAccount::new();
    let stack = unique("combined");
    let role = unique("gha-deploy");
    let main = "repo:acme/app:ref:refs/heads/main";
    let prod = "repo:acme/app:environment:prod";

    let out = account
        .gh_oidc(&["setup", "--stack-name", &stack, "--role-name", &role, "--repo-pattern", main, "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Plan: 2 to add, 0 to change, 0 to remove."), "{err}");
    let outputs = format!(
        "ProviderArn = {}\nRoleArn = arn:aws:iam::{}:role/{role}\nRoleName = {role}\n",
        account.provider_arn(),
        account.id
    );
    assert_eq!(stdout(&out), common::masked(&outputs));
    assert_eq!(account.trust_policy(&role).await, trust(&account.provider_arn(), "StringEquals", &[main]));

    // The same request again changes nothing: the stack's own provider is not mistaken for a foreign one.
    let out =
        account.succeed(&["setup", "--stack-name", &stack, "--role-name", &role, "--repo-pattern", main, "--yes"]);
    assert!(stderr(&out).contains("No changes"), "{}", stderr(&out));
    assert_eq!(account.change_set_count(&stack).await, 0);

    // A plan for a wider trust shows the change and leaves the stack as it was.
    let wider = ["--stack-name", &stack, "--role-name", &role, "--repo-pattern", main, "--repo-pattern", prod];
    let out = account.gh_oidc(&[&["plan"], &wider[..]].concat()).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Modify") && err.contains("GitHubActionsRole"), "{err}");
    assert!(err.contains("Plan: 0 to add, 1 to change, 0 to remove."), "{err}");
    assert_eq!(account.trust_policy(&role).await, trust(&account.provider_arn(), "StringEquals", &[main]));
    assert_eq!(account.change_set_count(&stack).await, 0);
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("CREATE_COMPLETE"));

    // Applying it updates the role.
    let out = account.gh_oidc(&[&["setup", "--yes", "--output", "json"], &wider[..]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["result"], "updated");
    assert_eq!(report["changes"][0]["action"], "Modify");
    assert_eq!(report["changes"][0]["physical_id"], role.as_str());
    assert_eq!(account.trust_policy(&role).await, trust(&account.provider_arn(), "StringEquals", &[main, prod]));
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("UPDATE_COMPLETE"));

    let out = account.succeed(&["teardown", "--stack-name", &stack, "--yes"]);
    assert!(stderr(&out).contains("Plan: 0 to add, 0 to change, 2 to remove."), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(!account.role_exists(&role).await);
    assert!(account.provider_arns().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wildcard_pattern_is_trusted_with_string_like() {
    let account = TestAccount::new();
    let role = unique("tags");
    account.succeed(&["setup", "--role-name", &role, "--repo-pattern", "repo:acme/app:ref:refs/tags/v*", "--yes"]);
    assert_eq!(
        account.trust_policy(&role).await,
        trust(&account.provider_arn(), "StringLike", &["repo:acme/app:ref:refs/tags/v*"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_of_a_new_stack_leaves_no_stack() {
    let account = TestAccount::new();
    let stack = unique("planned");
    // The same flags as setup, --yes included: a plan still changes nothing.
    let out = account.succeed(&["plan", "--stack-name", &stack, "--output", "json", "--yes"]);
    assert!(stderr(&out).contains("Plan: 1 to add, 0 to change, 0 to remove."));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["result"], "planned");
    assert_eq!(report["stack_id"], Value::Null);
    assert_eq!(report["changes"][0]["logical_id"], "GitHubOidcProvider");
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(account.provider_arns().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_and_without_yes_nothing_is_left_behind() {
    let account = TestAccount::new();
    let stack = unique("unconfirmed");

    // A new stack: the empty stack the change set made is deleted again.
    let out = account.gh_oidc(&["setup", "--stack-name", &stack]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: not confirmed: stdin is not a terminal to ask on; pass --yes"),
        "{}",
        stderr(&out)
    );
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(account.provider_arns().await.is_empty());

    // An existing stack: the change set is deleted and the stack untouched.
    let role = unique("unconfirmed-role");
    let first = ["--stack-name", &stack, "--role-name", &role, "--repo-pattern", "repo:acme/app:pull_request"];
    let out = account.gh_oidc(&[&["setup", "--yes"], &first[..]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = account
        .gh_oidc(&[&["setup"], &first[..], &["--repo-pattern", "repo:acme/app:environment:prod"]].concat())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(account.change_set_count(&stack).await, 0);
    assert_eq!(
        account.trust_policy(&role).await,
        trust(&account.provider_arn(), "StringEquals", &["repo:acme/app:pull_request"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn declining_at_the_prompt_leaves_nothing_behind() {
    let account = TestAccount::new();
    let stack = unique("declined");
    let out = common::on_a_terminal(&account, &["setup", "--stack-name", &stack], "n\n", false);
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{screen}");
    assert!(screen.contains(&format!("Execute this change set on {stack}? [y/N]")), "{screen}");
    assert!(screen.contains("declined; nothing was changed"), "{screen}");
    assert!(!screen.contains("\u{1b}[3"), "NO_COLOR is set, yet colours were printed: {screen:?}");
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(account.provider_arns().await.is_empty());

    // On a colour terminal, the same plan paints its Add green; "y" executes it.
    let out = common::on_a_terminal(&account, &["setup", "--stack-name", &stack], "y\n", true);
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    let add_row = screen.lines().find(|l| l.contains("GitHubOidcProvider ┆")).unwrap();
    assert!(add_row.contains("\u{1b}[38;5;10m Add"), "{add_row:?}");
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("CREATE_COMPLETE"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_at_the_prompt_exits_130_and_leaves_nothing_behind() {
    let account = TestAccount::new();
    let stack = unique("interrupted");
    // Ctrl-C typed on the terminal: the terminal sends SIGINT to the tool.
    let out = common::on_a_terminal(&account, &["setup", "--stack-name", &stack], "\u{3}", false);
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(130), "{screen}");
    assert!(screen.contains("error: interrupted (SIGINT); nothing was changed"), "{screen}");
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(account.provider_arns().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_reports_its_root_cause_and_leaves_no_stack() {
    let account = TestAccount::new();
    let role = unique("taken");
    let stack = unique("clash");
    account
        .iam()
        .await
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .expect("CreateRole");

    let out = account
        .gh_oidc(&["setup", "--stack-name", &stack, "--role-name", &role, "--repo-pattern", "repo:acme/app:*", "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: stack '{stack}' ended ROLLBACK_COMPLETE: GitHubActionsRole (AWS::IAM::Role) CREATE_FAILED:"
        )),
        "{last}"
    );
    assert!(last.contains(&format!("Role with name {role} already exists")), "{last}");
    assert!(last.contains("the empty stack was deleted"), "{last}");
    assert_eq!(account.stack_status(&stack).await, None);
    // The provider the stack made rolled back with it.
    assert!(account.provider_arns().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_without_the_audience_stops_before_any_change() {
    let account = TestAccount::new();
    let provider = create_provider_outside_stacks(&account, "sigstore").await;
    let out = account.gh_oidc(&["setup", "--repo-pattern", "repo:acme/app:*", "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&common::masked(&format!(
            "error: the provider {provider} does not accept the audience 'sts.amazonaws.com' (its client ids: sigstore)"
        ))),
        "{err}"
    );
    assert!(err.contains("add-client-id-to-open-id-connect-provider"), "{err}");
    assert_eq!(account.stack_status("gh-oidc-acme-app").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_provider_alone_when_the_account_already_has_one_is_nothing_to_do() {
    let account = TestAccount::new();
    let provider = create_provider_outside_stacks(&account, "sts.amazonaws.com").await;
    let out = account.succeed(&["setup", "--yes", "--output", "json"]);
    assert!(stderr(&out).contains(&format!("trusting the existing {}", common::masked(&provider))));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["result"], "nothing-to-deploy");
    assert_eq!(account.stack_status("gh-oidc-provider").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_of_a_missing_stack_says_so() {
    let account = TestAccount::new();
    let out =
        account.gh_oidc(&["teardown", "--stack-name", "never-made", "--yes", "--output", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("Stack never-made does not exist"), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report[0]["result"], "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_the_stack_and_its_outputs() {
    let account = TestAccount::new();
    account.succeed(&["setup", "--yes"]);

    let out = account.succeed(&["status", "--stack-name", "gh-oidc-provider"]);
    assert_eq!(
        stdout(&out),
        format!("StackStatus = CREATE_COMPLETE\nProviderArn = {}\n", common::masked(&account.provider_arn()))
    );
    // --show-account is the one way to see the account id in text output.
    let out = account.gh_oidc(&["status", "--stack-name", "gh-oidc-provider", "--show-account"]).output().unwrap();
    assert!(stdout(&out).contains(&account.provider_arn()), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("in account {} (us-east-1)", account.id)), "{}", stderr(&out));
    assert!(stderr(&out).contains("GitHubOidcProvider       AWS::IAM::OIDCProvider     CREATE_COMPLETE"));

    let out = account.gh_oidc(&["status", "--stack-name", "gh-oidc-provider", "--output", "json"]).output().unwrap();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["status"], "CREATE_COMPLETE");
    assert_eq!(report["termination_protection"], true, "the provider's stack is protected");
    assert!(stderr(&out).contains("Termination protection: on"), "{}", stderr(&out));
    assert_eq!(report["events"].as_array().unwrap().last().unwrap()["status"], "CREATE_COMPLETE");

    let out = account.gh_oidc(&["status", "--stack-name", "nothing-here"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stack 'nothing-here' does not exist"));
}

#[tokio::test(flavor = "multi_thread")]
async fn whoami_masks_the_account_unless_asked() {
    let account = TestAccount::new();
    let masked = format!("{}********{}", &account.id[..2], &account.id[10..]);

    let out = account.succeed(&["whoami"]);
    let text = stdout(&out);
    assert!(text.starts_with(&format!("Account = {masked}\n")), "{text}");
    assert!(text.contains("Region = us-east-1"), "{text}");
    assert!(!text.contains(&account.id), "{text}");

    let out = account.gh_oidc(&["whoami", "--show-account", "--output", "json"]).output().unwrap();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["account"], account.id.as_str());
    assert!(report["arn"].as_str().unwrap().contains(&account.id));
}
