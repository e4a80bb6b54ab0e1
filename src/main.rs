use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cfdeploy::cli::Cli::parse();
    match cfdeploy::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            cfdeploy::exit::Exit::Failure.into()
        }
    }
}
