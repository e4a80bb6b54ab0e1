use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cfdeploy::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and --version go to stdout and succeed; a usage error says what is wrong and
        // exits 64, never 2 (which `plan --detailed-exitcode` means as "changes present").
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                cfdeploy::exit::Exit::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Completions and man pages need only the command line's definition: no context, no
    // runtime.
    if let Some(exit) = cfdeploy::commands::definitions::run(&cli.command) {
        return exit;
    }
    match cfdeploy::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            // Where stderr is closed, the exit status still says it failed.
            let line = cfdeploy::logging::stderr_line("ERROR", &format!("error: {err:#}"));
            let _ = writeln!(std::io::stderr(), "{line}");
            cfdeploy::exit::Exit::Failure.into()
        }
    }
}
