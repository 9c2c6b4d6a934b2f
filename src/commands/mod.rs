//! One module per subcommand: validate what was asked, connect, hand over to the engine or
//! the pure logic, report.

mod audit;
mod deploy;
mod explain;
mod status;
mod whoami;

use crate::aws;
use crate::cli::{AwsArgs, Cli, Command, PlanArgs, SetupArgs, SharedArgs, TeardownArgs};
use crate::deploy::engine::Mode;
use crate::deploy::teardown::{Options, teardown};
use crate::error::Result;
use crate::spec::validate_stack_name;
use crate::ui::Ui;

pub async fn run(cli: Cli, ui: &Ui) -> Result<()> {
    match cli.command {
        Command::Setup(SetupArgs { aws, spec, yes, no_wait, replace_failed }) => {
            deploy::deploy(&aws, &spec, ui, Mode::Apply { yes, replace_failed }, no_wait).await
        }
        Command::Plan(PlanArgs { aws, spec, no_wait, .. }) => {
            deploy::deploy(&aws, &spec, ui, Mode::Plan, no_wait).await
        }
        Command::Render(args) => deploy::render(&args, ui),
        Command::Status(args) => status::status(args, ui).await,
        Command::Teardown(TeardownArgs { aws, stack_names, yes, force, retain_provider }) => {
            for name in &stack_names {
                validate_stack_name(name)?;
            }
            let account = connect(&aws).await?;
            let reports = teardown(&account, ui, &stack_names, Options { yes, force, retain_provider }).await?;
            ui.result(&reports, &[]);
            Ok(())
        }
        Command::Whoami(aws) => whoami::whoami(&aws, ui).await,
        Command::Explain(args) => explain::explain(args, ui).await,
        Command::Audit(args) => audit::audit(&args, ui).await,
    }
}

/// The AWS flags also decide how results print; every AWS command builds its `Ui` from them.
pub fn shared_args(cli: &Cli) -> Option<&SharedArgs> {
    match &cli.command {
        Command::Setup(a) => Some(&a.aws.shared),
        Command::Plan(a) => Some(&a.aws.shared),
        Command::Status(a) => Some(&a.aws.shared),
        Command::Teardown(a) => Some(&a.aws.shared),
        Command::Whoami(a) => Some(&a.shared),
        Command::Explain(a) => Some(&a.aws.shared),
        Command::Audit(a) => Some(&a.shared),
        Command::Render(_) => None,
    }
}

/// Locates, then connects: every local check before the first request.
async fn connect(args: &AwsArgs) -> Result<aws::Account> {
    let target = aws::locate(args).await?;
    aws::connect(args, target).await
}
