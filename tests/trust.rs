//! Trust and permissions on a real engine: what the role lets in and may do, read back through
//! IAM; the semantic diff of an update; `explain` on deployed roles.

mod common;

use common::{TestAccount, stderr, stdout, unique};
use serde_json::{Value, json};

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

/// A customer-managed policy allowing `action` on everything; returns its ARN.
async fn create_policy(iam: &aws_sdk_iam::Client, name: &str, action: &str) -> String {
    let document =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]});
    let created = iam
        .create_policy()
        .policy_name(unique(name))
        .policy_document(document.to_string())
        .send()
        .await
        .expect("CreatePolicy");
    created.policy().and_then(|p| p.arn()).expect("a policy ARN").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn builders_permissions_boundary_and_session_reach_iam() {
    let account = TestAccount::new();
    let iam = account.iam().await;
    let role = unique("gha-full");
    let boundary = create_policy(&iam, "boundary", "*").await;
    let deploy_policy = create_policy(&iam, "deploy", "s3:ListBucket").await;
    let dir = tempfile::tempdir().unwrap();
    let inline = dir.path().join("inline.json");
    let inline_doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-artifacts/*"}]});
    std::fs::write(&inline, inline_doc.to_string()).unwrap();

    let out = account.succeed(&[
        "setup",
        "--role-name",
        &role,
        "--repo",
        "acme/app",
        "--branch",
        "main",
        "--environment",
        "prod",
        "--repository-id",
        "123456",
        "--policy-arn",
        &deploy_policy,
        "--inline-policy",
        inline.to_str().unwrap(),
        "--permissions-boundary",
        &boundary,
        "--max-session-duration",
        "2h",
        "--role-path",
        "/ci/",
        "--role-description",
        "Deploys acme/app",
        "--yes",
        "--output",
        "json",
    ]);
    // Pinned by id and without wildcards: nothing to warn about.
    assert!(!stderr(&out).contains("warning:"), "{}", stderr(&out));
    let report = json_out(&out);
    assert_eq!(report["trust"][0]["action"], "Add");
    assert_eq!(
        report["trust"][0]["subjects_added"],
        json!(["repo:acme/app:environment:prod", "repo:acme/app:ref:refs/heads/main"])
    );

    assert_eq!(
        account.trust_policy(&role).await,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": account.provider_arn()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:environment:prod"],
                "token.actions.githubusercontent.com:repository_id": ["123456"]
            }}
        }]})
    );
    let got = iam.get_role().role_name(&role).send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.path(), "/ci/");
    assert_eq!(got.description(), Some("Deploys acme/app"));
    assert_eq!(got.permissions_boundary().and_then(|b| b.permissions_boundary_arn()), Some(boundary.as_str()));
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.unwrap();
    let attached: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(attached, [deploy_policy.as_str()]);
    let inline_got = iam.get_role_policy().role_name(&role).policy_name("gh-oidc-inline").send().await.unwrap();
    assert_eq!(gh_oidc::aws::iam::parse_policy_document(inline_got.policy_document()), inline_doc);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_shows_what_it_does_to_the_trust_and_marks_broadening() {
    let account = TestAccount::new();
    let role = unique("gha-diff");
    let base = ["--role-name", &role, "--repo", "acme/app", "--repository-id", "7"];
    let setup = |extra: &[&str]| {
        account.gh_oidc(&[&["setup", "--yes", "--output", "json"], &base[..], extra].concat()).output().unwrap()
    };
    let out = setup(&["--all-refs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: 'repo:acme/app:*' trusts every branch"), "{}", stderr(&out));

    // Narrowing: every ref → one environment, with a policy and a longer session.
    let out = setup(&["--environment", "prod", "--policy-arn", "ReadOnlyAccess", "--max-session-duration", "4h"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trust = &json_out(&out)["trust"][0];
    assert_eq!(trust["action"], "Modify");
    assert_eq!(trust["subjects_added"], json!(["repo:acme/app:environment:prod"]));
    assert_eq!(trust["subjects_removed"], json!(["repo:acme/app:*"]));
    assert_eq!(trust["policies_attached"], json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]));
    assert_eq!(trust["max_session_duration"], json!({"before": null, "after": 14400}));
    assert_eq!(trust["broadens_access"], false);
    let err = stderr(&out);
    assert!(err.contains(&format!("Role {role} (GitHubActionsRole, Modify):\n")), "{err}");
    assert!(err.contains("  + subject repo:acme/app:environment:prod\n  - subject repo:acme/app:*\n"), "{err}");
    assert!(err.contains("  + policy arn:aws:iam::aws:policy/ReadOnlyAccess"), "{err}");
    assert!(err.contains("  ~ max session default (1h) → 4h"), "{err}");

    // Broadening: another environment and another repository id.
    let out = account
        .gh_oidc(
            &[
                &["plan", "--output", "json"],
                &base[..],
                &[
                    "--repository-id",
                    "8",
                    "--environment",
                    "prod",
                    "--environment",
                    "staging",
                    "--policy-arn",
                    "ReadOnlyAccess",
                    "--max-session-duration",
                    "4h",
                ],
            ]
            .concat(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trust = &json_out(&out)["trust"][0];
    assert_eq!(trust["subjects_added"], json!(["repo:acme/app:environment:staging"]));
    assert_eq!(trust["repository_ids_added"], json!(["8"]));
    assert_eq!(trust["broadens_access"], true);
    assert!(
        stderr(&out).contains(&format!("Role {role} (GitHubActionsRole, Modify): BROADENS ACCESS")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        account.trust_policy(&role).await["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!(["repo:acme/app:environment:prod"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_answers_for_a_deployed_role() {
    let account = TestAccount::new();
    let role = unique("gha-explain");
    account.succeed(&[
        "setup",
        "--role-name",
        &role,
        "--repo",
        "acme/app",
        "--git-tag",
        "v*",
        "--repository-id",
        "99",
        "--yes",
    ]);

    let explain = |sub: &str, extra: &[&str]| {
        account.gh_oidc(&[&["explain", "--role-name", &role, "--sub", sub], extra].concat()).output().unwrap()
    };
    let out = explain("repo:acme/app:ref:refs/tags/v1.2.3", &["--claim", "repository_id=99"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("ALLOWED: statement 1 of {role}'s trust policy admits this token.\n"));

    let out = explain("repo:acme/app:ref:refs/heads/main", &["--claim", "repository_id=99", "--output", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let answer = json_out(&out);
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["reasons"][0]["operator"], "StringLike");
    assert_eq!(answer["reasons"][0]["key"], "token.actions.githubusercontent.com:sub");
    assert_eq!(answer["reasons"][0]["expected"], json!(["repo:acme/app:ref:refs/tags/v*"]));
    assert!(
        answer["reasons"][0]["fix"].as_str().unwrap().contains("--repo-pattern 'repo:acme/app:ref:refs/heads/main'")
    );
    assert!(stderr(&out).contains(&format!("error: {role} would refuse this token")));

    let out = explain("repo:acme/app:ref:refs/tags/v1", &["--aud", "sigstore", "--claim", "repository_id=99"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stdout(&out).contains("token.actions.githubusercontent.com:aud is 'sigstore', expected 'sts.amazonaws.com'"),
        "{}",
        stdout(&out)
    );

    let out = account
        .gh_oidc(&["explain", "--role-name", "no-such-role", "--sub", "repo:a/b:pull_request"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("role 'no-such-role' does not exist"));
}

/// Runs the binary on a pseudo-terminal and types `answer` at its prompt.
fn screen_of(account: &TestAccount, args: &[&str], answer: &str) -> String {
    let out = common::on_a_terminal(account, args, answer, false);
    String::from_utf8_lossy(&out.stdout).into_owned() + &format!("\n[exit {:?}]", out.status.code())
}

#[tokio::test(flavor = "multi_thread")]
async fn broadening_on_a_terminal_needs_the_role_name_typed() {
    let account = TestAccount::new();
    let role = unique("gha-typed");
    let base = ["--role-name", &role, "--repo", "acme/app", "--repository-id", "5", "--environment", "prod"];
    let out = account.gh_oidc(&[&["setup", "--yes"], &base[..]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let wider = [&["setup"], &base[..], &["--environment", "staging"]].concat();
    let screen = screen_of(&account, &wider, "y\n");
    assert!(
        screen.contains(&format!("This change lets more workflows assume {role}. Type {role} to go ahead:")),
        "{screen}"
    );
    assert!(screen.ends_with("[exit Some(3)]"), "{screen}");
    assert_eq!(
        account.trust_policy(&role).await["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!(["repo:acme/app:environment:prod"])
    );
    assert_eq!(account.change_set_count(&role).await, 0);

    let screen = screen_of(&account, &wider, &format!("{role}\n"));
    assert!(screen.ends_with("[exit Some(0)]"), "{screen}");
    assert_eq!(
        account.trust_policy(&role).await["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!(["repo:acme/app:environment:prod", "repo:acme/app:environment:staging"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_flags_each_misconfiguration_across_profiles() {
    let flawed = TestAccount::new();
    let clean = TestAccount::new();
    let iam = flawed.iam().await;
    let provider = flawed.provider_arn();
    let aud = "token.actions.githubusercontent.com:aud";
    let sub = "token.actions.githubusercontent.com:sub";
    let cases = [
        ("no-sub", json!({"StringEquals": {aud: "sts.amazonaws.com"}})),
        ("no-aud", json!({"StringEquals": {sub: "repo:acme/app:pull_request"}})),
        ("wild-owner", json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:acme*"}})),
        ("owner-wide", json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:acme/*:*"}})),
        (
            "for-all",
            json!({"StringEquals": {aud: "sts.amazonaws.com"}, "ForAllValues:StringLike": {sub: "repo:acme/app:*"}}),
        ),
        ("every-ref", json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:acme/app:*"}})),
        ("admin", json!({"StringEquals": {aud: "sts.amazonaws.com", sub: "repo:acme/app:environment:prod"}})),
    ];
    for (name, condition) in &cases {
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]});
        iam.create_role()
            .role_name(*name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole");
    }
    iam.attach_role_policy()
        .role_name("admin")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("admin")
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    // A role GitHub cannot assume is not audited.
    iam.create_role()
        .role_name("lambda")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();

    let out = flawed.gh_oidc(&["audit", "--output", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let report = json_out(&out);
    assert_eq!(report[0]["github_roles"], 7);
    let found: Vec<(String, String)> = report[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["role"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    for expected in [
        ("no-sub", "critical"),
        ("wild-owner", "critical"),
        ("for-all", "critical"),
        ("no-aud", "high"),
        ("owner-wide", "high"),
        ("admin", "high"),
        ("every-ref", "medium"),
    ] {
        assert!(found.contains(&(expected.0.to_string(), expected.1.to_string())), "{expected:?} in {found:?}");
    }
    assert!(!found.iter().any(|(role, _)| role == "lambda"));
    let admin: Vec<&str> = report[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "admin")
        .map(|f| f["finding"].as_str().unwrap())
        .collect();
    assert_eq!(
        admin,
        [
            "arn:aws:iam::aws:policy/AdministratorAccess is attached: full control of the account",
            "inline policy everything allows \"Action\": \"*\""
        ]
    );

    // A clean account next to it: the table only lists the flawed one, and setup's own roles pass.
    let out = clean
        .gh_oidc(&["setup", "--repo", "acme/app", "--environment", "prod", "--repository-id", "1", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = clean.gh_oidc(&["audit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 GitHub role(s), 0 finding(s)"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    // Both accounts in one run, one profile each.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config"),
        "[profile flawed]\nregion = us-east-1\n[profile clean]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("credentials"),
        format!(
            "[flawed]\naws_access_key_id = {}\naws_secret_access_key = t\n[clean]\naws_access_key_id = {}\naws_secret_access_key = t\n",
            flawed.id, clean.id
        ),
    )
    .unwrap();
    let out = flawed
        .bare(&["audit", "--profile", "flawed", "--profile", "clean"])
        .env("AWS_CONFIG_FILE", dir.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("credentials"))
        .env("AWS_ENDPOINT_URL", common::endpoint())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Account {}********{} (us-east-1): 7 GitHub role(s)", &flawed.id[..2], &flawed.id[10..])),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Account {}********{} (us-east-1): 1 GitHub role(s), 0 finding(s)",
            &clean.id[..2],
            &clean.id[10..]
        )),
        "{err}"
    );
    let table = stdout(&out);
    assert!(table.contains("Severity") && table.contains("CRITICAL") && table.contains("no-sub"), "{table}");
    assert!(err.ends_with("finding(s) in the roles GitHub tokens can assume\n"), "{err}");
}
