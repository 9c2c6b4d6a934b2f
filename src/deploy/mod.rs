//! The deploy engine: the change-set state machine, the stack follower, and the decisions
//! they rest on.

pub mod engine;
pub mod follow;
pub mod poll;
pub mod provider;
pub mod states;
pub mod teardown;

/// Resolves on SIGINT or SIGTERM, naming the signal.
pub async fn interrupted() -> String {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted (SIGINT)".to_string(),
        _ = terminate.recv() => "interrupted (SIGTERM)".to_string(),
    }
}
