//! What is printed from definitions alone, before any context exists: shell completions and man
//! pages (from the command line's), and the config's JSON Schema (from the config types).

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Handles the commands that need only the definitions; `None` for every other command.
pub fn run(command: &Command) -> Option<ExitCode> {
    match command {
        Command::Completions(args) => {
            let mut cli = Cli::command();
            clap_complete::generate(args.shell, &mut cli, "cfdeploy", &mut std::io::stdout());
            Some(ExitCode::SUCCESS)
        }
        Command::Man(args) => Some(man(args.command.as_deref())),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&crate::config::schema()).unwrap_or_default();
            let _ = writeln!(std::io::stdout(), "{text}");
            Some(ExitCode::SUCCESS)
        }
        _ => None,
    }
}

/// cfdeploy(1), or cfdeploy-COMMAND(1).
fn man(command: Option<&str>) -> ExitCode {
    let cli = Cli::command();
    let page = match command {
        None => clap_mangen::Man::new(cli),
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => clap_mangen::Man::new(
                sub.clone()
                    .display_name(format!("cfdeploy-{name}"))
                    .version(env!("CARGO_PKG_VERSION"))
                    .bin_name(format!("cfdeploy {name}")),
            )
            .title(format!("cfdeploy-{name}")),
            None => {
                let known: Vec<String> = cli
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                let _ = writeln!(
                    std::io::stderr(),
                    "error: no command `{name}`; the commands are: {}",
                    known.join(", ")
                );
                return Exit::Usage.into();
            }
        },
    };
    let mut out = Vec::new();
    if let Err(e) = page.render(&mut out) {
        let _ = writeln!(std::io::stderr(), "error: rendering the man page: {e}");
        return Exit::Failure.into();
    }
    let _ = std::io::stdout().write_all(&out);
    ExitCode::SUCCESS
}
