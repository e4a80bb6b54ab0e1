use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cfdeploy::cli::Cli::parse();
    match cfdeploy::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cfdeploy::EXIT_FAILURE)
        }
    }
}
