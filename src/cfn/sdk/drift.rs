//! Drift detection through the SDK: start it, ask where it is, read the drifted resources.

use aws_sdk_cloudformation::types as t;

use super::{all_pages, SdkCloudFormation};
use crate::cfn::CfnError;
use crate::model::{DriftDetection, DriftDifference, ResourceDrift};

impl SdkCloudFormation {
    pub(super) async fn start_drift_detection(
        &self,
        region: &str,
        stack: &str,
    ) -> Result<String, CfnError> {
        let op = "DetectStackDrift";
        let client = self.client(region, op);
        let out = self
            .send(op, region, || {
                client.detect_stack_drift().stack_name(stack).send()
            })
            .await?;
        Ok(out
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_string())
    }

    pub(super) async fn drift_detection(
        &self,
        region: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, CfnError> {
        let op = "DescribeStackDriftDetectionStatus";
        let client = self.client(region, op);
        let out = self
            .send(op, region, || {
                client
                    .describe_stack_drift_detection_status()
                    .stack_drift_detection_id(detection_id)
                    .send()
            })
            .await?;
        Ok(DriftDetection::parse(
            out.detection_status()
                .map(|s| s.as_str())
                .unwrap_or_default(),
            out.detection_status_reason(),
        ))
    }

    pub(super) async fn drifted_resources(
        &self,
        region: &str,
        stack: &str,
    ) -> Result<Vec<ResourceDrift>, CfnError> {
        let op = "DescribeStackResourceDrifts";
        all_pages(|token| {
            let client = self.client(region, op);
            async move {
                let out = self
                    .send(op, region, || {
                        client
                            .describe_stack_resource_drifts()
                            .stack_name(stack)
                            .stack_resource_drift_status_filters(
                                t::StackResourceDriftStatus::Modified,
                            )
                            .stack_resource_drift_status_filters(
                                t::StackResourceDriftStatus::Deleted,
                            )
                            .set_next_token(token.clone())
                            .send()
                    })
                    .await?;
                let drifts = out
                    .stack_resource_drifts()
                    .iter()
                    .map(resource_drift)
                    .collect();
                Ok((drifts, out.next_token().map(str::to_string)))
            }
        })
        .await
    }
}

fn resource_drift(d: &t::StackResourceDrift) -> ResourceDrift {
    ResourceDrift {
        logical_id: d.logical_resource_id().unwrap_or_default().to_string(),
        status: d
            .stack_resource_drift_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        differences: d
            .property_differences()
            .iter()
            .map(|p| DriftDifference {
                path: p.property_path().unwrap_or_default().to_string(),
                expected: p.expected_value().unwrap_or_default().to_string(),
                actual: p.actual_value().unwrap_or_default().to_string(),
                kind: p
                    .difference_type()
                    .map(|k| k.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}
