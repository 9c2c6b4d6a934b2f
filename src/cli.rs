//! The command line, as clap parses it. Nothing here checks meaning or talks to AWS:
//! `spec` turns these raw values into a validated request.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(
    name = "gh-oidc",
    version,
    about = "Connect GitHub Actions to AWS through OIDC: no long-lived keys, reviewed change sets",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log each AWS request, retry and the full chain of every error to stderr (RUST_LOG
    /// overrides what is logged)
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the provider and/or role stack: plan a change set, show it, ask, execute, follow
    #[command(after_help = after_help(SETUP_EXAMPLES))]
    Setup(SetupArgs),
    /// Show the change set `setup` would execute, then delete it; the stack is left as it was
    #[command(after_help = after_help(PLAN_EXAMPLES))]
    Plan(PlanArgs),
    /// Print the CloudFormation template on stdout; makes no AWS call
    #[command(after_help = after_help(RENDER_EXAMPLES))]
    Render(RenderArgs),
    /// Show a stack's status, outputs and latest events
    #[command(after_help = after_help(STATUS_EXAMPLES))]
    Status(StatusArgs),
    /// Delete a stack and follow the deletion to its end
    #[command(after_help = after_help(TEARDOWN_EXAMPLES))]
    Teardown(TeardownArgs),
    /// Show the account, identity and region the AWS flags resolve to
    #[command(after_help = after_help(WHOAMI_EXAMPLES))]
    Whoami(AwsArgs),
    /// Say whether a GitHub token with these claims may assume a role, and if not, why
    #[command(after_help = after_help(EXPLAIN_EXAMPLES))]
    Explain(ExplainArgs),
    /// List the roles GitHub tokens can assume and flag dangerous trust; exit 4 on findings
    #[command(after_help = after_help(AUDIT_EXAMPLES))]
    Audit(AuditArgs),
}

/// How to reach one AWS account; shared by every command that calls it.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// Named profile from the AWS config files (default: AWS_PROFILE, then `default`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// The AWS flags besides the profile.
#[derive(Debug, Clone, Args)]
pub struct SharedArgs {
    /// AWS region (default: AWS_REGION, then the profile's region)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (AWS_ENDPOINT_URL and its per-service forms also work)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// `text` for people (stderr) and plain results (stdout); `json` for one JSON document on stdout
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Print the full account id instead of masking it as 12********34
    #[arg(long)]
    pub show_account: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A profile to audit, one account each; repeatable (default: AWS_PROFILE, then `default`)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    #[command(flatten)]
    pub shared: SharedArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// What to deploy: the provider, a role, or both.
#[derive(Debug, Default, Args)]
pub struct SpecArgs {
    /// Stack name (default: `gh-oidc-provider` for the provider alone, else the role's name)
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// A tag for the stack and, through it, its resources; repeatable
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Turn every warning into an error (exit 2)
    #[arg(long)]
    pub deny_warnings: bool,

    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub role: RoleArgs,
}

/// Who may assume the role. Every --repo is crossed with every qualifier.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Who may assume the role")]
pub struct TrustArgs {
    /// A repository, `OWNER/REPO` or `OWNER@OWNER_ID/REPO@REPO_ID`; repeatable
    #[arg(long = "repo", value_name = "OWNER/REPO")]
    pub repos: Vec<String>,
    /// Runs on this branch (`*` and `?` allowed); repeatable
    #[arg(long = "branch", value_name = "NAME")]
    pub branches: Vec<String>,
    /// Runs for this git tag (`*` and `?` allowed); repeatable
    #[arg(long = "git-tag", value_name = "NAME")]
    pub git_tags: Vec<String>,
    /// Jobs in this deployment environment (`*` and `?` allowed); repeatable
    #[arg(long = "environment", value_name = "NAME")]
    pub environments: Vec<String>,
    /// Pull-request runs
    #[arg(long)]
    pub pull_request: bool,
    /// Every run of the repository: every branch, tag, pull request and environment
    #[arg(long)]
    pub all_refs: bool,
    /// A raw `sub` pattern, e.g. 'repo:acme/app:ref:refs/heads/main'; repeatable
    #[arg(long = "repo-pattern", value_name = "PATTERN")]
    pub repo_patterns: Vec<String>,
    /// Also require this repository id (closes renamed/deleted-repository takeovers); repeatable
    #[arg(long = "repository-id", value_name = "ID")]
    pub repository_ids: Vec<String>,
    /// Allow `repo:OWNER/*` patterns, which trust every repository of the owner
    #[arg(long)]
    pub allow_owner_wide: bool,
    /// The token audience the provider accepts and the role checks
    /// (default: sts.amazonaws.com, or sts.amazonaws.com.cn in China regions)
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: Option<String>,
    /// The token issuer: github.com (default), GitHub Enterprise Cloud's
    /// https://token.actions.githubusercontent.com/ENTERPRISE, GitHub Enterprise Server's
    /// https://HOST/_services/token, or https://token.actions.SUBDOMAIN.ghe.com
    #[arg(long, value_name = "URL")]
    pub issuer_url: Option<String>,
    /// Trust this existing provider instead of finding (or creating) the account's own
    #[arg(long, value_name = "ARN")]
    pub provider_arn: Option<String>,
}

/// What the role is and may do.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "The role")]
pub struct RoleArgs {
    /// Role name (default: `gh-oidc-OWNER-REPO` from the first repository)
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// A managed policy to attach: an ARN, or the name of an AWS-managed policy such as
    /// ReadOnlyAccess; repeatable
    #[arg(long = "policy-arn", value_name = "ARN|NAME")]
    pub policy_arns: Vec<String>,
    /// A JSON policy document to embed in the role
    #[arg(long, value_name = "FILE")]
    pub inline_policy: Option<std::path::PathBuf>,
    /// The permissions boundary: a managed policy ARN or AWS-managed policy name
    #[arg(long, value_name = "ARN|NAME")]
    pub permissions_boundary: Option<String>,
    /// The longest session the role grants: seconds, or hours/minutes like 1h, 90m, 12h (1 to 12 hours)
    #[arg(long, value_name = "DURATION")]
    pub max_session_duration: Option<String>,
    /// The role's IAM path, e.g. /ci/
    #[arg(long, value_name = "PATH")]
    pub role_path: Option<String>,
    /// The role's description
    #[arg(long, value_name = "TEXT")]
    pub role_description: Option<String>,
}

/// `render` has no AWS flags, but the partition decides the default audience and ARNs.
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The region the template is for (its partition sets the default audience)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Refuse, instead of following it, when another operation is running on the stack
    #[arg(long, help_heading = "Running")]
    pub no_wait: bool,
    /// Accepted so that plan takes the same flags as setup; a plan never changes anything
    #[arg(long, short = 'y', hide = true)]
    pub yes: bool,
    /// Accepted so that plan takes the same flags as setup; a plan never replaces a stack
    #[arg(long, hide = true)]
    pub replace_failed: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Execute the change set without asking (needed when stdin is not a terminal)
    #[arg(long, short = 'y', help_heading = "Running")]
    pub yes: bool,
    /// Refuse, instead of following it, when another operation is running on the stack
    #[arg(long, help_heading = "Running")]
    pub no_wait: bool,
    /// Delete a stack whose creation failed (it holds nothing) and create it again, without asking
    #[arg(long, help_heading = "Running")]
    pub replace_failed: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The stack to show
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,
    /// Follow the stack until it settles, printing each new event
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct TeardownArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// A stack to delete; repeatable (stacks with roles go before the provider's)
    #[arg(long = "stack-name", value_name = "NAME", required = true)]
    pub stack_names: Vec<String>,
    /// Delete without asking (needed when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete a provider even though roles outside its stack still trust it
    #[arg(long)]
    pub force: bool,
    /// Delete the stack but keep the provider it holds
    #[arg(long)]
    pub retain_provider: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The role to read (IAM GetRole); with --policy, picks the role in a template
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Read the trust policy from this file instead of AWS: a policy document, or a template
    /// such as `gh-oidc render` prints
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// The token's `sub` claim, e.g. 'repo:acme/app:ref:refs/heads/main'
    #[arg(long, value_name = "SUB")]
    pub sub: String,
    /// The token's `aud` claim
    #[arg(long, value_name = "AUDIENCE", default_value = "sts.amazonaws.com")]
    pub aud: String,
    /// Another claim of the token, e.g. repository_id=123456; repeatable
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    pub claims: Vec<String>,
    /// The token's issuer (default: github.com's)
    #[arg(long, value_name = "URL")]
    pub issuer_url: Option<String>,
}

fn after_help(examples: &str) -> String {
    format!("{examples}\n\n{EXIT_CODES_HELP}")
}

const SETUP_EXAMPLES: &str = "\
Examples:
  # The account's GitHub OIDC provider, alone in its own stack
  gh-oidc setup --profile dev --yes

  # A role that the main branch and the prod environment of acme/app may assume
  # (reuses the account's provider, or creates it in the same stack)
  gh-oidc setup --profile dev --role-name gha-deploy \\
      --repo acme/app --branch main --environment prod \\
      --repository-id 123456789 --policy-arn ReadOnlyAccess

  # The same with raw subject patterns
  gh-oidc setup --profile dev --role-name gha-deploy \\
      --repo-pattern 'repo:acme/app:ref:refs/heads/main' \\
      --repo-pattern 'repo:acme/app:environment:prod'";

const PLAN_EXAMPLES: &str = "\
Examples:
  # What would change if acme/app's tags could deploy too?
  gh-oidc plan --profile dev --role-name gha-deploy \\
      --repo-pattern 'repo:acme/app:ref:refs/heads/main' \\
      --repo-pattern 'repo:acme/app:ref:refs/tags/v*'";

const RENDER_EXAMPLES: &str = "\
Examples:
  # The template for a role trusting an existing provider, to review or lint
  gh-oidc render --repo-pattern 'repo:acme/app:environment:prod' \\
      --provider-arn arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

const STATUS_EXAMPLES: &str = "\
Examples:
  gh-oidc status --profile dev --stack-name gha-deploy
  gh-oidc status --profile dev --stack-name gha-deploy --follow --output json";

const TEARDOWN_EXAMPLES: &str = "\
Examples:
  gh-oidc teardown --profile dev --stack-name gha-deploy --yes

  # Roles and the provider together: the role stack is deleted first
  gh-oidc teardown --profile dev --stack-name gha-deploy --stack-name gh-oidc-provider --yes

  # A stack holding both provider and role, keeping the provider for other roles
  gh-oidc teardown --profile dev --stack-name gh-oidc-acme-app --retain-provider --yes";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  # Why does the deploy job get \"Not authorized to perform sts:AssumeRoleWithWebIdentity\"?
  gh-oidc explain --profile dev --role-name gha-deploy \\
      --sub 'repo:acme/app:ref:refs/heads/feature' --claim repository_id=123456

  # The same question of a template, offline
  gh-oidc render --repo acme/app --environment prod > template.json
  gh-oidc explain --policy template.json --sub 'repo:acme/app:environment:prod'";

const AUDIT_EXAMPLES: &str = "\
Examples:
  # Every account, as a CI gate
  gh-oidc audit --profile dev --profile staging --profile prod
  gh-oidc audit --profile prod --output json";

const WHOAMI_EXAMPLES: &str = "\
Examples:
  gh-oidc whoami --profile dev
  gh-oidc whoami --profile dev --show-account --output json";
