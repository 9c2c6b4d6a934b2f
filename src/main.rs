use std::process::ExitCode;

use clap::Parser;

use gh_oidc::cli::{Cli, Output};
use gh_oidc::commands;
use gh_oidc::ui::Ui;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (output, show_account) =
        commands::shared_args(&cli).map_or((Output::Text, false), |a| (a.output, a.show_account));
    let ui = Ui::new(output, show_account);
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    let result = runtime.block_on(commands::run(cli, &ui));
    // A prompt still waiting on stdin must not keep the process alive after Ctrl-C.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            ui.error(&error);
            error.exit_code()
        }
    }
}
