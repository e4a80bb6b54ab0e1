//! What identifies one run of cfdeploy: a correlation id shared by every stack, log line and
//! change set of the run, and the time it started.

use time::macros::format_description;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct RunContext {
    /// 16 hex digits; shown to the user, in every log line and in each change set's description.
    pub correlation_id: String,
    pub started: OffsetDateTime,
}

impl RunContext {
    pub fn new() -> RunContext {
        RunContext {
            correlation_id: format!("{:016x}", fastrand::u64(..)),
            started: OffsetDateTime::now_utc(),
        }
    }

    /// `cfdeploy-<UTC yyyymmddThhmmss>-<first 6 of the correlation id>`: why the change set exists,
    /// when, and which run made it.
    pub fn change_set_name(&self) -> String {
        let stamp = self
            .started
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]"
            ))
            .unwrap_or_default();
        format!("cfdeploy-{stamp}-{}", &self.correlation_id[..6])
    }

    pub fn started_rfc3339(&self) -> String {
        self.started
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

impl Default for RunContext {
    fn default() -> Self {
        RunContext::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_set_name_says_who_and_when_and_is_a_valid_name() {
        let run = RunContext {
            correlation_id: "3f9a2c0011223344".to_string(),
            started: time::macros::datetime!(2026-11-23 10:15:00 UTC),
        };
        assert_eq!(run.change_set_name(), "cfdeploy-20261123T101500-3f9a2c");
        assert_eq!(run.started_rfc3339(), "2026-11-23T10:15:00Z");
    }
}
