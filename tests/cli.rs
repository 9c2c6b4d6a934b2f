//! What a user sees before anything reaches AWS: help, input errors, configuration errors,
//! and `render`. AWS_ENDPOINT_URL points at a closed port, so a command that sent anything
//! would fail with "could not reach AWS" (exit 1) instead of the expected error.

mod common;

use common::{TestAccount, stderr, stdout};
use predicates::prelude::*;

const CLOSED_PORT: &str = "http://127.0.0.1:9";

fn offline(account: &TestAccount, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = account.bare(args);
    cmd.env("AWS_ENDPOINT_URL", CLOSED_PORT);
    cmd
}

#[test]
fn bad_input_is_one_line_naming_the_flag_exit_2_and_nothing_sent() {
    let account = TestAccount::new();
    for (args, expected) in [
        (
            &["setup", "--repo-pattern", "repo:acme*"][..],
            "error: --repo-pattern 'repo:acme*': a wildcard in the owner or repository name",
        ),
        (
            &["setup", "--repo-pattern", "acme/app"],
            "error: --repo-pattern 'acme/app': a GitHub subject starts with 'repo:OWNER/REPO:'",
        ),
        (
            &["setup", "--repo-pattern", "repo:acme/app"],
            "error: --repo-pattern 'repo:acme/app': say which runs may assume the role",
        ),
        (&["setup", "--role-name", "deploy"], "error: --role-name: a role needs at least one subject"),
        (&["setup", "--repo-pattern", "repo:a/b:*", "--role-name", "bad name"], "error: --role-name 'bad name':"),
        (&["plan", "--stack-name", "9lives"], "error: --stack-name '9lives':"),
        (&["setup", "--tag", "team"], "error: --tag 'team': expected KEY=VALUE"),
        (&["setup", "--audience", ""], "error: --audience '':"),
        (
            &["setup", "--repo-pattern", "repo:a/b:*", "--provider-arn", "arn:aws:iam::1:role/x"],
            "error: --provider-arn 'arn:aws:iam::1:role/x':",
        ),
        (&["teardown", "--stack-name", "bad_name"], "error: --stack-name 'bad_name':"),
        (&["setup", "--endpoint-url", "localhost:4566"], "error: --endpoint-url 'localhost:4566': give a full URL"),
        (
            &["setup", "--repo", "acme/app"],
            "error: --repo 'acme/app': say which runs may assume the role with --branch NAME",
        ),
        (&["setup", "--branch", "main"], "error: --branch: name the repository it applies to with --repo OWNER/REPO"),
        (
            &["setup", "--repo", "acme/*", "--branch", "main"],
            "error: --repo 'acme/*': trusts every repository of 'acme'",
        ),
        (
            &["setup", "--repo", "acme/app*", "--pull-request"],
            "error: --repo 'acme/app*': a wildcard in the owner or repository name",
        ),
        (
            &["setup", "--repo", "acme/app", "--all-refs", "--repository-id", "1", "--deny-warnings"],
            "error: --deny-warnings: 'repo:acme/app:*' trusts every branch",
        ),
        (
            &["setup", "--repo", "acme/app", "--pull-request", "--max-session-duration", "13h"],
            "error: --max-session-duration '13h': give 1 to 12 hours",
        ),
        (
            &["setup", "--issuer-url", "https://example.com"],
            "error: --issuer-url 'https://example.com': this is not a GitHub Actions token issuer",
        ),
        (
            &["setup", "--repo", "acme/app", "--pull-request", "--policy-arn", "Bad Name"],
            "error: --policy-arn 'Bad Name':",
        ),
        (&["setup", "--repo", "acme/app", "--pull-request", "--role-path", "ci"], "error: --role-path 'ci':"),
        (
            &["setup", "--repo", "acme/app", "--pull-request", "--inline-policy", "/nonexistent.json"],
            "error: --inline-policy '/nonexistent.json': cannot read it",
        ),
        (
            &[
                "setup",
                "--repo",
                "acme@1/app@2",
                "--pull-request",
                "--issuer-url",
                "https://ghe.example.com/_services/token",
            ],
            "error: --repo 'repo:acme@1/app@2:pull_request': GitHub Enterprise Server does not issue the immutable-ID form",
        ),
        (
            &[
                "setup",
                "--repo",
                "acme/app",
                "--pull-request",
                "--region",
                "cn-north-1",
                "--provider-arn",
                "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            ],
            "error: --provider-arn 'arn:aws:iam::11********33:oidc-provider/token.actions.githubusercontent.com': it is in partition 'aws' but the region is in 'aws-cn'",
        ),
        (&["explain", "--sub", "repo:a/b:pull_request"], "error: --role-name: say which role's trust policy to check"),
        (
            &["explain", "--policy", "/nonexistent.json", "--sub", "x"],
            "error: --policy '/nonexistent.json': cannot read it",
        ),
        (
            &["explain", "--role-name", "r", "--sub", "x", "--claim", "oops"],
            "error: --claim 'oops': expected KEY=VALUE",
        ),
    ] {
        let out = offline(&account, &[args, &["--profile", common::PROFILE]].concat()).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(expected), "{args:?}: {err}");
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn an_unknown_profile_and_a_missing_region_are_named() {
    let account = TestAccount::new();
    offline(&account, &["whoami", "--profile", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: --profile 'nope': no such profile"));
    offline(&account, &["whoami"])
        .env("AWS_PROFILE", "missing")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: AWS_PROFILE 'missing': no such profile"));
    // The profile exists but has no region, and none is given.
    offline(&account, &["whoami"])
        .env("AWS_ACCESS_KEY_ID", "111122223333")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .assert()
        .code(2)
        .stderr("error: --region: no AWS region is set; pass --region or set AWS_REGION\n");
}

#[test]
fn missing_credentials_and_an_unreachable_endpoint_say_what_to_do() {
    let account = TestAccount::new();
    offline(&account, &["whoami", "--region", "us-east-1"])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: no AWS credentials found; pass --profile, or set AWS_ACCESS_KEY_ID",
        ));
    offline(&account, &["whoami", "--profile", common::PROFILE])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: GetCallerIdentity: could not reach AWS"))
        .stderr(predicate::str::contains("check the network, --endpoint-url and AWS_ENDPOINT_URL"));
}

#[test]
fn verbose_shows_the_full_error_chain_that_the_one_line_error_leaves_out() {
    let account = TestAccount::new();
    let quiet = offline(&account, &["whoami", "--profile", common::PROFILE]).output().unwrap();
    assert_eq!(stderr(&quiet).lines().count(), 1, "{}", stderr(&quiet));
    let verbose = offline(&account, &["whoami", "--profile", common::PROFILE, "--verbose"]).output().unwrap();
    assert_eq!(verbose.status.code(), Some(1));
    let log = stderr(&verbose);
    assert!(log.contains("AWS call failed") && log.contains("tcp connect error"), "{log}");
    assert!(log.lines().last().unwrap().starts_with("error: GetCallerIdentity: could not reach AWS"), "{log}");
    assert!(!log.contains("aws_secret_access_key") && !log.contains("test\n"), "no secrets: {log}");
}

#[test]
fn every_command_has_an_example_and_the_exit_codes_in_its_help() {
    let account = TestAccount::new();
    for command in ["setup", "plan", "render", "status", "teardown", "whoami", "explain", "audit"] {
        let out = account.bare(&[command, "--help"]).output().unwrap();
        let help = stdout(&out);
        assert_eq!(out.status.code(), Some(0));
        assert!(help.contains("Examples:\n  "), "{command}: {help}");
        assert!(help.contains(&format!("gh-oidc {command} ")), "{command}: {help}");
        assert!(help.contains("3    not confirmed"), "{command}: {help}");
        assert!(help.contains("130  interrupted"), "{command}: {help}");
    }
    let top = stdout(&account.bare(&["--help"]).output().unwrap());
    assert!(top.contains("2    invalid input (nothing was sent to AWS)"), "{top}");
}

fn render(account: &TestAccount, args: &[&str]) -> serde_json::Value {
    let out = offline(account, &[&["render"], args].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.json");
    std::fs::write(&path, &text).unwrap();
    let lint = std::process::Command::new(common::cfn_lint()).arg(&path).output().expect("cfn-lint runs");
    assert!(lint.status.success(), "cfn-lint on {args:?}:\n{}{}", stdout(&lint), stderr(&lint));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn warnings_go_to_stderr_and_do_not_stop_the_run() {
    let account = TestAccount::new();
    let out = offline(
        &account,
        &["render", "--repo", "acme/app", "--all-refs", "--pull-request", "--policy-arn", "AdministratorAccess"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<String> = stderr(&out).lines().map(String::from).collect();
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert!(warnings[0].starts_with("warning: 'repo:acme/app:*' trusts every branch"));
    assert!(warnings[1].starts_with("warning: 'repo:acme/app:pull_request' lets pull-request runs"));
    assert!(warnings[2].starts_with("warning: 'repo:acme/app:pull_request' names its repository by name"));
    assert!(warnings[3].starts_with("warning: --policy-arn 'AdministratorAccess' gives the role full control"));
    serde_json::from_str::<serde_json::Value>(&stdout(&out)).expect("the template is still printed");
}

#[test]
fn every_issuer_and_partition_renders_lint_clean() {
    let account = TestAccount::new();
    let dir = tempfile::tempdir().unwrap();
    let inline = dir.path().join("inline.json");
    std::fs::write(
        &inline,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
    )
    .unwrap();
    let role = [
        "--repo",
        "acme/app",
        "--branch",
        "main",
        "--git-tag",
        "v*",
        "--environment",
        "prod",
        "--repository-id",
        "42",
        "--policy-arn",
        "ReadOnlyAccess",
        "--permissions-boundary",
        "PowerUserAccess",
        "--inline-policy",
        inline.to_str().unwrap(),
        "--max-session-duration",
        "12h",
        "--role-path",
        "/ci/",
        "--role-description",
        "CI",
    ];
    for issuer in [
        "https://token.actions.githubusercontent.com",
        "https://token.actions.githubusercontent.com/octo-enterprise",
        "https://ghe.example.com/_services/token",
        "https://token.actions.octocorp.ghe.com",
    ] {
        for (region, audience) in [
            ("us-east-1", "sts.amazonaws.com"),
            ("cn-north-1", "sts.amazonaws.com.cn"),
            ("us-gov-west-1", "sts.amazonaws.com"),
        ] {
            let template = render(&account, &[&role[..], &["--issuer-url", issuer, "--region", region]].concat());
            let key = issuer.trim_start_matches("https://");
            let provider = &template["Resources"]["GitHubOidcProvider"]["Properties"];
            assert_eq!(provider["Url"], issuer);
            assert_eq!(provider["ClientIdList"][0], audience, "{region}");
            let condition = &template["Resources"]["GitHubActionsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
                [0]["Condition"];
            assert_eq!(condition["StringEquals"][format!("{key}:aud")], audience, "{issuer} {region}");
            assert_eq!(condition["StringEquals"][format!("{key}:repository_id")][0], "42");
            assert_eq!(condition["StringLike"][format!("{key}:sub")].as_array().unwrap().len(), 3);
            let text = template.to_string();
            assert!(!text.contains("arn:aws:"), "no hard-coded partition: {text}");
            assert!(!text.contains("ForAllValues") && !text.contains("ForAnyValue"));
        }
    }
}

#[test]
fn explain_works_offline_on_a_rendered_template() {
    let account = TestAccount::new();
    let template =
        offline(&account, &["render", "--repo", "acme/app", "--environment", "prod", "--repository-id", "3"])
            .output()
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.json");
    std::fs::write(&path, &template.stdout).unwrap();
    let path = path.to_str().unwrap();

    let out = offline(
        &account,
        &["explain", "--policy", path, "--sub", "repo:acme/app:environment:prod", "--claim", "repository_id=3"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ALLOWED: statement 1 of gh-oidc-acme-app's trust policy admits this token.\n");

    let out = offline(
        &account,
        &["explain", "--policy", path, "--sub", "repo:acme/app:environment:staging", "--claim", "repository_id=3"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "REFUSED: gh-oidc-acme-app's trust policy does not admit this token.\n\
         \x20 statement 1: StringEquals token.actions.githubusercontent.com:sub is 'repo:acme/app:environment:staging', expected 'repo:acme/app:environment:prod'\n\
         \x20   fix: no trusted pattern matches; to admit exactly this run, add --repo acme/app --environment staging \
         (or --repo-pattern 'repo:acme/app:environment:staging')\n"
    );
}

#[test]
fn render_prints_a_lint_clean_template_for_each_shape_without_aws() {
    let account = TestAccount::new();
    let arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    let provider_only = render(&account, &[]);
    let resources: Vec<&String> = provider_only["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(resources, ["GitHubOidcProvider"]);

    let both = render(&account, &["--repo-pattern", "repo:acme/app:ref:refs/heads/main"]);
    let resources: Vec<&String> = both["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(resources, ["GitHubOidcProvider", "GitHubActionsRole"]);
    assert_eq!(both["Resources"]["GitHubActionsRole"]["Properties"]["RoleName"], "gh-oidc-acme-app");

    let role_only = render(&account, &["--repo-pattern", "repo:acme/app:*", "--provider-arn", arn]);
    let resources: Vec<&String> = role_only["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(resources, ["GitHubActionsRole"]);
    let statement =
        &role_only["Resources"]["GitHubActionsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(statement["Principal"]["Federated"], arn);
    assert_eq!(statement["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"][0], "repo:acme/app:*");
    assert_eq!(statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
}
