//! The one error type every command returns, and the exit code each kind maps to.
//!
//! Messages are written for the person at the terminal: one line that says what went wrong
//! and what to do about it.

use std::process::ExitCode;

/// Why a command stopped; decides the exit code documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An AWS operation failed, or the stack ended in a failed state.
    Aws,
    /// The command line asked for something invalid; nothing was sent to AWS.
    Input,
    /// The change was not confirmed (declined at the prompt, or no TTY and no `--yes`).
    Declined,
    /// SIGINT or SIGTERM arrived.
    Interrupted,
    /// The answer is unfavourable: `explain` found the token refused, `audit` found problems.
    Findings,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error { kind: Kind::Input, message: message.into() }
    }

    pub fn aws(message: impl Into<String>) -> Self {
        Error { kind: Kind::Aws, message: message.into() }
    }

    pub fn declined(message: impl Into<String>) -> Self {
        Error { kind: Kind::Declined, message: message.into() }
    }

    pub fn interrupted(message: impl Into<String>) -> Self {
        Error { kind: Kind::Interrupted, message: message.into() }
    }

    pub fn findings(message: impl Into<String>) -> Self {
        Error { kind: Kind::Findings, message: message.into() }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.kind {
            Kind::Aws => 1,
            Kind::Input => 2,
            Kind::Declined => 3,
            Kind::Findings => 4,
            Kind::Interrupted => 130,
        })
    }
}

/// The exit codes, as shown under every command's `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done, or nothing to do
  1    an AWS operation failed, or the stack rolled back
  2    invalid input (nothing was sent to AWS)
  3    not confirmed (declined, or no TTY and no --yes)
  4    explain: the token would be refused; audit: findings
  130  interrupted (Ctrl-C or SIGTERM)";
