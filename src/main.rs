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
    if cli.verbose {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "gh_oidc=debug,aws_smithy_runtime=debug,aws_config=warn".into());
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ui.color).init();
    }
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
