//! Structured logs on stderr, text or JSON. Every line carries the run's correlation id through
//! the `run` span that wraps each command.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// With `--log-format json`, the run's correlation id: every line on stderr is then a JSON
/// object, the messages for the person watching and the final error included.
static JSON: OnceLock<String> = OnceLock::new();

/// Sets the log format for the whole process (the first call wins).
pub fn init(format: LogFormat, filter: &str, color: bool, correlation_id: &str) {
    if format == LogFormat::Json {
        let _ = JSON.set(correlation_id.to_string());
    }
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

/// A line for stderr: `message` as it is, or with `--log-format json` one JSON object shaped like
/// the log lines (`timestamp`, `level`, `fields.message`, the `run` span with the correlation id,
/// as `span` and as the only entry of `spans`).
pub fn stderr_line(level: &str, message: &str) -> String {
    match JSON.get() {
        None => message.to_string(),
        Some(id) => json_line(level, message, id),
    }
}

fn json_line(level: &str, message: &str, correlation_id: &str) -> String {
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    serde_json::json!({
        "timestamp": timestamp,
        "level": level,
        "fields": {"message": message},
        "span": {"correlation_id": correlation_id, "name": "run"},
        "spans": [{"correlation_id": correlation_id, "name": "run"}],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_json_line_is_one_object_with_the_message_and_the_correlation_id() {
        let line = super::json_line("ERROR", "error: two\nlines \"quoted\"", "3f9a2c0011223344");
        assert!(!line.contains('\n'), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["level"], "ERROR");
        assert_eq!(value["fields"]["message"], "error: two\nlines \"quoted\"");
        assert_eq!(value["span"]["correlation_id"], "3f9a2c0011223344");
        assert_eq!(value["spans"][0]["correlation_id"], "3f9a2c0011223344");
        assert!(value["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
