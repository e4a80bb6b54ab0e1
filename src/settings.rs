//! Resolves what the flags and the environment mean for output: colour and width, decided once.

use std::io::IsTerminal;

use crate::cli::ColorChoice;
use crate::render::Style;

/// Colour only on a terminal and never with `NO_COLOR` set; width from the terminal or `COLUMNS`.
pub fn stdout_style(choice: ColorChoice) -> Style {
    let tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && !no_color,
    };
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| *c >= 40);
    let width = columns.or_else(|| {
        tty.then(|| terminal_size::terminal_size().map(|(w, _)| w.0))
            .flatten()
    });
    Style { color, width }
}

/// Whether progress on stderr may use colour.
pub fn stderr_color(choice: ColorChoice) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && !no_color,
    }
}
