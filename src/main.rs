use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cfdeploy::cli::Cli::parse();
    match cfdeploy::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            // Where stderr is closed, the exit status still says it failed.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            cfdeploy::exit::Exit::Failure.into()
        }
    }
}
