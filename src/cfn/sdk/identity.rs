//! Who the credentials belong to: STS `GetCallerIdentity`, asked once and briefly.

use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_config::Region;

use super::SdkCloudFormation;
use crate::cfn::CfnError;

/// Longest wait for STS to say who the run acts as.
const IDENTITY_TIMEOUT: Duration = Duration::from_secs(10);

/// The account and principal a run acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl SdkCloudFormation {
    /// Who the credentials belong to (`GetCallerIdentity`): asked once, before any stack starts,
    /// so that a wrong account or missing credentials show at once, in one line.
    pub async fn identity(&self, region: &str) -> Result<Identity, CfnError> {
        let op = "GetCallerIdentity";
        self.calls.fetch_add(1, Ordering::Relaxed);
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        let client = aws_sdk_sts::Client::from_conf(conf);
        // One attempt, briefly: who the run acts as is for the header, and an endpoint that
        // cannot say is reported by the CloudFormation calls with their own retries.
        self.governor.acquire(region).await;
        let limit = self.call_timeout.min(IDENTITY_TIMEOUT);
        let out = match tokio::time::timeout(limit, client.get_caller_identity().send()).await {
            Ok(Ok(out)) => {
                self.governor.succeeded(region);
                out
            }
            Ok(Err(e)) => return Err(self.error(op, region, e)),
            Err(_) => {
                return Err(CfnError::Transport {
                    operation: op.to_string(),
                    message: format!(
                        "no answer from {} within {}s",
                        self.endpoint(region),
                        limit.as_secs()
                    ),
                })
            }
        };
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}
