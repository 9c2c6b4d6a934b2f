//! The terminal: messages for people on stderr (coloured only on a TTY without NO_COLOR),
//! results for scripts on stdout, progress spinners that only a TTY sees, and the prompt.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::Output;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Ui {
    pub color: bool,
    /// stderr is a terminal: spinners are drawn and tables fit its width.
    pub interactive: bool,
    pub output: Output,
    pub show_account: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Change,
    Bad,
    Plain,
}

impl Ui {
    pub fn new(output: Output, show_account: bool) -> Ui {
        let interactive = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = interactive && !no_color && std::env::var("TERM").map_or(true, |t| t != "dumb");
        console::set_colors_enabled_stderr(color);
        Ui { color, interactive, output, show_account }
    }

    pub fn paint(&self, tone: Tone, text: &str) -> String {
        let style = match tone {
            Tone::Good => Style::new().green(),
            Tone::Change => Style::new().yellow(),
            Tone::Bad => Style::new().red(),
            Tone::Plain => return text.to_string(),
        };
        style.force_styling(self.color).apply_to(text).to_string()
    }

    /// A line for people.
    pub fn say(&self, line: &str) {
        eprintln!("{}", self.redact(line));
    }

    pub fn warn(&self, line: &str) {
        eprintln!("{} {}", self.paint(Tone::Change, "warning:"), self.redact(line));
    }

    pub fn error(&self, error: &Error) {
        eprintln!("{} {}", self.paint(Tone::Bad, "error:"), self.redact(&error.message));
    }

    /// Text output shows account ids masked, in ARNs and links too, unless `--show-account`:
    /// CI logs are often readable by more people than the account is.
    pub fn redact(&self, text: &str) -> String {
        if self.show_account { text.to_string() } else { mask_account_ids(text) }
    }

    /// The account id as this run may show it: `12********34` unless `--show-account`.
    pub fn account(&self, account: &str) -> String {
        if self.show_account { account.to_string() } else { mask_account(account) }
    }

    /// A spinner for a wait; hidden (but still printing lines) when stderr is not a terminal.
    pub fn spinner(&self, message: &str) -> Spinner {
        let bar = if self.interactive {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(message.to_string());
        Spinner { bar, ui: self.clone() }
    }

    /// Asks before a change; `yes` is `--yes`. Without a terminal to ask on, refuses. With
    /// `must_type`, a plain "y" is not enough: the answer must be that text (a role name).
    pub async fn confirm(&self, question: &str, yes: bool, must_type: Option<&str>) -> Result<()> {
        if yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::declined(
                "not confirmed: stdin is not a terminal to ask on; pass --yes to go ahead without asking",
            ));
        }
        match must_type {
            Some(text) => eprint!("{question} Type {text} to go ahead: "),
            None => eprint!("{question} [y/N] "),
        }
        let _ = std::io::stderr().flush();
        // Read on a blocking thread so that Ctrl-C at the prompt is still noticed.
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .expect("the prompt thread does not panic")
        .unwrap_or_default();
        let answer = answer.trim();
        let confirmed = match must_type {
            Some(text) => answer == text,
            None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
        };
        if confirmed { Ok(()) } else { Err(Error::declined("declined; nothing was changed")) }
    }

    /// A result for scripts: the JSON form with `--output json`, else the text lines.
    pub fn result<T: Serialize>(&self, json: &T, text: &[String]) {
        let mut out = std::io::stdout().lock();
        let written = match self.output {
            Output::Json => writeln!(out, "{}", serde_json::to_string_pretty(json).expect("results serialise")),
            Output::Text => text.iter().try_for_each(|line| writeln!(out, "{}", self.redact(line))),
        };
        // A closed stdout (e.g. `| head`) is the reader's choice, not an error to report.
        let _ = written;
    }
}

pub struct Spinner {
    bar: ProgressBar,
    ui: Ui,
}

impl Spinner {
    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Prints a line above the spinner (or plainly, when there is none).
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| self.ui.say(line));
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// `111122223333` → `11********33`; anything that is not a 12-digit id is masked whole.
pub fn mask_account(account: &str) -> String {
    if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) {
        format!("{}********{}", &account[..2], &account[10..])
    } else {
        "*".repeat(account.len())
    }
}

/// Every run of exactly twelve digits (an account id, in ARNs and URL-encoded links alike)
/// masked as `11********33`.
pub fn mask_account_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        out.push_str(&if digits.len() == 12 { mask_account(&digits) } else { std::mem::take(&mut digits) });
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_masked_wherever_they_appear() {
        assert_eq!(
            mask_account_ids("arn:aws:iam::111122223333:role/x and stack%3A444455556666%2F"),
            "arn:aws:iam::11********33:role/x and stack%3A44********66%2F"
        );
        // Not twelve digits: timestamps, ids, longer numbers stay as they are.
        assert_eq!(mask_account_ids("22:02:27 id 1234567890123 x 12345"), "22:02:27 id 1234567890123 x 12345");
        assert_eq!(mask_account_ids("111122223333"), "11********33");
    }

    #[test]
    fn account_ids_are_masked_to_their_ends() {
        assert_eq!(mask_account("111122223334"), "11********34");
        assert_eq!(mask_account("12345"), "*****");
    }

    #[test]
    fn colour_only_when_enabled() {
        let mut ui = Ui { color: false, interactive: false, output: Output::Text, show_account: false };
        assert_eq!(ui.paint(Tone::Good, "Add"), "Add");
        ui.color = true;
        assert_eq!(ui.paint(Tone::Good, "Add"), "\u{1b}[32mAdd\u{1b}[0m");
        assert_eq!(ui.paint(Tone::Plain, "Add"), "Add");
    }
}
