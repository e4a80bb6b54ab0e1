//! Structured logs on stderr, text or JSON. Every line carries the run's correlation id through
//! the `run` span that wraps each command.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

pub fn init(format: LogFormat, filter: &str, color: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Every line passes the masker on its way to stderr (the SDK's own trace lines too).
        .with_writer(crate::mask::LogWriter::default)
        .with_target(false);
    // A second init (as in tests calling `run` twice) is harmless: keep the first.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(color).try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}
