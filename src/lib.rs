//! gh-oidc: connect GitHub Actions to AWS through OIDC with reviewed CloudFormation change sets.
//!
//! The flow of data: `cli` (flags) → `spec` (a validated request) → `template` (the
//! CloudFormation JSON) → `deploy` (change-set state machine over the `aws` modules) →
//! `report` (table, events, text or JSON results). See docs/ARCHITECTURE.md.

pub mod audit;
pub mod aws;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod diff;
pub mod error;
pub mod explain;
pub mod issuer;
pub mod policy;
pub mod report;
pub mod spec;
pub mod subject;
pub mod template;
pub mod ui;
