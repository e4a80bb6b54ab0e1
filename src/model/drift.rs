//! Drift: how a stack's live resources differ from its deployed template.

/// A resource whose live state differs from the deployed template (drift detection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDrift {
    pub logical_id: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    pub differences: Vec<DriftDifference>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftDifference {
    /// e.g. `/VisibilityTimeout`.
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub kind: String,
}

/// Where a drift detection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftDetection {
    InProgress,
    Complete,
    /// CloudFormation could not finish it (some resource types do not support it), and why.
    Failed(String),
}

impl DriftDetection {
    /// From `DetectionStatus` and `DetectionStatusReason`.
    pub fn parse(status: &str, reason: Option<&str>) -> DriftDetection {
        match status {
            "DETECTION_IN_PROGRESS" => DriftDetection::InProgress,
            "DETECTION_COMPLETE" => DriftDetection::Complete,
            other => DriftDetection::Failed(reason.unwrap_or(other).to_string()),
        }
    }
}
