//! The trust policy `render` writes for each way of saying who may assume the role, kept as
//! reviewed snapshots in tests/snapshots/: a change to any of them shows up in review.

use assert_cmd::Command;
use serde_json::Value;

fn trust_policy(args: &[&str]) -> Value {
    let out = Command::cargo_bin("gh-oidc")
        .unwrap()
        .arg("render")
        .args(["--role-name", "gha"])
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let template: Value = serde_json::from_slice(&out.stdout).unwrap();
    template["Resources"]["GitHubActionsRole"]["Properties"]["AssumeRolePolicyDocument"].clone()
}

#[test]
fn trust_policies_for_every_builder() {
    let cases: &[(&str, &[&str])] = &[
        ("branch", &["--repo", "acme/app", "--branch", "main"]),
        ("branch_wildcard", &["--repo", "acme/app", "--branch", "release/*"]),
        ("git_tag", &["--repo", "acme/app", "--git-tag", "v*"]),
        ("environment", &["--repo", "acme/app", "--environment", "prod"]),
        ("pull_request", &["--repo", "acme/app", "--pull-request"]),
        ("all_refs", &["--repo", "acme/app", "--all-refs"]),
        ("colon_in_branch", &["--repo", "acme/app", "--branch", "feat:x"]),
        (
            "two_repositories_every_qualifier",
            &[
                "--repo",
                "acme/app",
                "--repo",
                "acme/lib",
                "--branch",
                "main",
                "--git-tag",
                "v*",
                "--environment",
                "prod",
                "--pull-request",
                "--all-refs",
            ],
        ),
        ("immutable_ids", &["--repo", "acme@111/app@222", "--environment", "prod"]),
        ("repository_ids", &["--repo", "acme/app", "--environment", "prod", "--repository-id", "222"]),
        ("owner_wide", &["--repo", "acme/*", "--branch", "main", "--allow-owner-wide"]),
        ("raw_and_built", &["--repo-pattern", "repo:acme/app:pull_request", "--repo", "acme/app", "--branch", "main"]),
        ("audience", &["--repo", "acme/app", "--branch", "main", "--audience", "custom-aud"]),
        ("china", &["--repo", "acme/app", "--branch", "main", "--region", "cn-north-1"]),
        (
            "enterprise_cloud",
            &[
                "--repo",
                "acme/app",
                "--branch",
                "main",
                "--issuer-url",
                "https://token.actions.githubusercontent.com/octo",
            ],
        ),
        (
            "enterprise_server",
            &["--repo", "acme/app", "--branch", "main", "--issuer-url", "https://ghe.example.com/_services/token"],
        ),
        (
            "data_residency",
            &["--repo", "acme/app", "--branch", "main", "--issuer-url", "https://token.actions.octocorp.ghe.com"],
        ),
        (
            "existing_provider",
            &[
                "--repo",
                "acme/app",
                "--branch",
                "main",
                "--provider-arn",
                "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            ],
        ),
    ];
    for (name, args) in cases {
        insta::assert_json_snapshot!(*name, trust_policy(args));
    }
}
