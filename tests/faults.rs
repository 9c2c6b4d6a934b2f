//! Throttling, server errors, dropped connections and slow answers between the binary and
//! AWS (a fault-injecting proxy in front of the emulator), and signals while planning.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::proxy::{Fault, FaultProxy, Rule};
use common::{TestAccount, stderr, unique};

fn through(account: &TestAccount, proxy: &FaultProxy, args: &[&str]) -> Command {
    let mut cmd = account.command(assert_cmd::cargo::cargo_bin("gh-oidc"));
    cmd.env("AWS_ENDPOINT_URL", &proxy.url).args(args).args(["--profile", common::PROFILE]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_rides_out_throttling_server_errors_resets_and_slow_answers() {
    let account = TestAccount::new();
    let proxy = FaultProxy::start(
        &common::endpoint(),
        Rule::Alternate(vec![
            Fault::Throttle,
            Fault::ServerError,
            Fault::Reset,
            Fault::Delay(Duration::from_millis(300)),
        ]),
    );
    let role = unique("gha-faults");
    let out = through(
        &account,
        &proxy,
        &["setup", "--role-name", &role, "--repo", "acme/app", "--pull-request", "--repository-id", "1", "--yes"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(account.stack_status(&role).await.as_deref(), Some("CREATE_COMPLETE"));
    assert!(account.role_exists(&role).await);

    let served = proxy.served();
    for fault in [Fault::Throttle, Fault::ServerError, Fault::Reset] {
        assert!(served.iter().any(|(_, f)| *f == fault), "{fault:?} never served: {served:?}");
    }
    for action in ["GetCallerIdentity", "DescribeStacks", "CreateChangeSet", "DescribeChangeSet", "ExecuteChangeSet"] {
        assert!(served.iter().any(|(a, _)| a == action), "no fault for {action}: {served:?}");
    }

    let out = through(&account, &proxy, &["teardown", "--stack-name", &role, "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(account.stack_status(&role).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_that_outlast_the_retries_stop_the_run_and_leave_nothing() {
    let account = TestAccount::new();
    let proxy = FaultProxy::start(&common::endpoint(), Rule::Always("DescribeChangeSet", Fault::ServerError));
    let stack = unique("unlucky");
    let out = through(&account, &proxy, &["setup", "--stack-name", &stack, "--yes"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().last().unwrap(), "error: DescribeChangeSet: InternalFailure: injected by the test proxy");
    // The empty stack the change set made is gone again, and the provider was never made.
    assert_eq!(account.stack_status(&stack).await, None);
    assert!(account.provider_arns().await.is_empty());
}

/// Starts a setup of a new stack whose `action` answers come 3 s late, and sends SIGINT once
/// the stack shows `status`; returns the stack's name and what the run printed.
async fn interrupted_while(
    account: &TestAccount,
    action: &'static str,
    status: &str,
) -> (String, std::process::Output) {
    let proxy = FaultProxy::start(&common::endpoint(), Rule::Always(action, Fault::Delay(Duration::from_secs(3))));
    let stack = unique("interrupted");
    let child = through(account, &proxy, &["setup", "--stack-name", &stack, "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for_status(account, &stack, status).await;
    common::send_signal(&child, "INT");
    (stack, child.wait_with_output().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_while_planning_deletes_the_change_set_and_the_empty_stack() {
    let account = TestAccount::new();
    let (stack, out) = interrupted_while(&account, "DescribeChangeSet", "REVIEW_IN_PROGRESS").await;
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: interrupted (SIGINT); nothing was changed"), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_while_the_change_set_is_being_created_still_cleans_up() {
    let account = TestAccount::new();
    // CloudFormation makes the change set (and its stack) at once, but the tool only hears
    // of it seconds later: the signal lands while CreateChangeSet is in flight.
    let (stack, out) = interrupted_while(&account, "CreateChangeSet", "REVIEW_IN_PROGRESS").await;
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await, None, "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_while_execute_is_in_flight_leaves_the_stack_to_finish() {
    let account = TestAccount::new();
    // CloudFormation starts creating the stack, but the tool has not heard back yet.
    let (stack, out) = interrupted_while(&account, "ExecuteChangeSet", "CREATE_COMPLETE").await;
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("the stack operation goes on in AWS"), "{}", stderr(&out));
    assert_eq!(account.stack_status(&stack).await.as_deref(), Some("CREATE_COMPLETE"));
}
