//! What a run shows: the change-set table, stack events, and the final result as text or JSON.

use std::collections::BTreeMap;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::aws::cloudformation::{Change, StackEvent};
use crate::diff::RoleDiff;
use crate::issuer::Partition;
use crate::ui::{Tone, Ui};

/// How a setup, plan or teardown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Created,
    Updated,
    NoChanges,
    Planned,
    /// The provider exists outside the stack and no role was asked for.
    NothingToDeploy,
    Deleted,
    /// Teardown of a stack that does not exist.
    NotFound,
}

/// The result of setup, plan or teardown, as `--output json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub account: String,
    pub region: String,
    pub stack_name: String,
    pub stack_id: Option<String>,
    pub result: Outcome,
    pub changes: Vec<Change>,
    /// What the changes do to each role's trust and permissions.
    pub trust: Vec<RoleDiff>,
    pub outputs: BTreeMap<String, String>,
}

impl Report {
    /// The text form on stdout: the outputs, one `Key = Value` per line.
    pub fn text(&self) -> Vec<String> {
        outputs_text(&self.outputs)
    }
}

pub fn outputs_text(outputs: &BTreeMap<String, String>) -> Vec<String> {
    outputs.iter().map(|(k, v)| format!("{k} = {v}")).collect()
}

fn tone(action: &str) -> Tone {
    match action {
        "Add" | "Import" => Tone::Good,
        "Modify" | "Dynamic" => Tone::Change,
        "Remove" => Tone::Bad,
        _ => Tone::Plain,
    }
}

fn table_color(tone: Tone) -> Option<Color> {
    match tone {
        Tone::Good => Some(Color::Green),
        Tone::Change => Some(Color::Yellow),
        Tone::Bad => Some(Color::Red),
        Tone::Plain => None,
    }
}

/// A table sized to the terminal and coloured as `ui` decides (comfy-table would look at
/// stdout, which may not be where the table goes).
fn styled_table(ui: &Ui) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.force_no_tty();
    if ui.interactive
        && let Some((width, _)) = console::Term::stderr().size_checked()
    {
        table.set_width(width);
    }
    if ui.color {
        table.enforce_styling();
    }
    table
}

/// Action | Logical ID | Type | Physical ID | Replacement
pub fn change_table(ui: &Ui, changes: &[Change]) -> String {
    let mut table = styled_table(ui);
    table.set_header(["Action", "Logical ID", "Type", "Physical ID", "Replacement"]);
    for c in changes {
        let mut action = Cell::new(&c.action);
        if let Some(color) = table_color(tone(&c.action)) {
            action = action.fg(color);
        }
        table.add_row(vec![
            action,
            Cell::new(&c.logical_id),
            Cell::new(&c.resource_type),
            Cell::new(c.physical_id.as_deref().unwrap_or("-")),
            Cell::new(c.replacement.as_deref().unwrap_or("-")),
        ]);
    }
    table.to_string()
}

/// Severity | Account | Role | Finding | Fix: a result for stdout, so never coloured.
pub fn findings_table(ui: &Ui, rows: &[[String; 5]]) -> String {
    let mut table = styled_table(&Ui { color: false, ..ui.clone() });
    table.set_header(["Severity", "Account", "Role", "Finding", "Fix"]);
    table.add_rows(rows);
    table.to_string()
}

/// `Plan: 1 to add, 0 to change, 0 to remove.`
pub fn summary(changes: &[Change]) -> String {
    let count = |tone_wanted: Tone| changes.iter().filter(|c| tone(&c.action) == tone_wanted).count();
    format!("Plan: {} to add, {} to change, {} to remove.", count(Tone::Good), count(Tone::Change), count(Tone::Bad))
}

/// The console page of a change set, in the region's partition.
pub fn console_link(region: &str, stack_id: &str, change_set_id: &str) -> String {
    let host = Partition::of_region(region).console_host();
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    format!(
        "https://{host}/cloudformation/home?region={region}#/stacks/changesets/changes?stackId={}&changeSetId={}",
        enc(stack_id),
        enc(change_set_id)
    )
}

/// `22:02:27  GitHubActionsRole  AWS::IAM::Role  CREATE_COMPLETE  reason`
pub fn event_line(ui: &Ui, e: &StackEvent) -> String {
    let time = e.timestamp.get(11..19).unwrap_or(&e.timestamp);
    let status_tone = if e.status.ends_with("_FAILED") || e.status.contains("ROLLBACK") {
        Tone::Bad
    } else if e.status.ends_with("_COMPLETE") {
        Tone::Good
    } else {
        Tone::Plain
    };
    // Pad before painting, so colour codes do not count towards the column width.
    let status = ui.paint(status_tone, &format!("{:<20}", e.status));
    let line = format!("{time}  {:<24} {:<26} {status}", e.logical_id, e.resource_type);
    match &e.reason {
        Some(reason) => format!("{line} {reason}"),
        None => line.trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Output;

    fn ui() -> Ui {
        Ui { color: false, interactive: false, output: Output::Text, show_account: false }
    }

    fn change(action: &str, id: &str) -> Change {
        Change {
            action: action.into(),
            logical_id: id.into(),
            resource_type: "AWS::IAM::Role".into(),
            physical_id: (action != "Add").then(|| "gha-deploy".into()),
            replacement: (action == "Modify").then(|| "False".into()),
            before: None,
            after: None,
        }
    }

    #[test]
    fn the_table_lists_each_change() {
        let table = change_table(&ui(), &[change("Add", "GitHubOidcProvider"), change("Modify", "GitHubActionsRole")]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[1].contains("Action") && lines[1].contains("Replacement"), "{table}");
        let add = lines.iter().find(|l| l.contains("GitHubOidcProvider")).unwrap();
        assert!(add.contains("Add") && add.contains(" - "), "{add}");
        let modify = lines.iter().find(|l| l.contains("GitHubActionsRole")).unwrap();
        assert!(modify.contains("Modify") && modify.contains("gha-deploy") && modify.contains("False"), "{modify}");
        assert!(!table.contains('\u{1b}'), "no colour without a TTY");
    }

    #[test]
    fn the_summary_counts_by_action() {
        let changes = [change("Add", "a"), change("Add", "b"), change("Modify", "c"), change("Remove", "d")];
        assert_eq!(summary(&changes), "Plan: 2 to add, 1 to change, 1 to remove.");
        assert_eq!(summary(&[]), "Plan: 0 to add, 0 to change, 0 to remove.");
    }

    #[test]
    fn the_console_link_follows_the_partition() {
        let link = console_link("us-east-1", "arn:aws:cloudformation:us-east-1:1:stack/s/1", "arn:cs/1");
        assert_eq!(
            link,
            "https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/changesets/changes?\
             stackId=arn%3Aaws%3Acloudformation%3Aus%2Deast%2D1%3A1%3Astack%2Fs%2F1&changeSetId=arn%3Acs%2F1"
        );
        assert!(console_link("cn-north-1", "s", "c").starts_with("https://console.amazonaws.cn/"));
        assert!(console_link("us-gov-west-1", "s", "c").starts_with("https://console.amazonaws-us-gov.com/"));
    }

    #[test]
    fn event_lines_read_in_columns() {
        let e = StackEvent {
            id: "1".into(),
            timestamp: "2026-11-25T22:02:27.929Z".into(),
            logical_id: "GitHubActionsRole".into(),
            resource_type: "AWS::IAM::Role".into(),
            status: "CREATE_FAILED".into(),
            reason: Some("Role with name x already exists".into()),
        };
        assert_eq!(
            event_line(&ui(), &e),
            "22:02:27  GitHubActionsRole        AWS::IAM::Role             CREATE_FAILED        Role with name x already exists"
        );
    }

    #[test]
    fn outputs_print_as_key_equals_value() {
        let outputs = BTreeMap::from([("RoleArn".to_string(), "arn:r".to_string()), ("RoleName".into(), "r".into())]);
        assert_eq!(outputs_text(&outputs), ["RoleArn = arn:r", "RoleName = r"]);
    }
}
