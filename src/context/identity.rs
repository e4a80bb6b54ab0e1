//! Who a run acts as: STS asked once, briefly, before any stack starts, and what a failure means
//! (stop with one error, or go on with the account unknown).

use anyhow::{bail, Result};

use super::Context;
use crate::cfn::CfnError;

impl Context {
    /// Who the run acts as, in one line for the header; asked once, before any stack starts. A
    /// failure is one clear error: which profile or credentials were tried, and what to run.
    pub async fn identity(&self) -> Result<String> {
        if let Some(region) = &self.global.region {
            if !looks_like_a_region(region) {
                bail!(
                    "--region `{region}` is not an AWS region name (like us-east-1 or eu-west-2)"
                );
            }
        }
        let region = self
            .default_region()
            .await
            .unwrap_or_else(|| "us-east-1".to_string());
        let tried = match &self.global.profile {
            Some(p) => format!("the profile `{p}` (--profile)"),
            None => match self.env.get("AWS_PROFILE") {
                Some(p) if self.env.get("AWS_ACCESS_KEY_ID").is_none() => {
                    format!("the profile `{p}` (AWS_PROFILE)")
                }
                _ if self.env.get("AWS_ACCESS_KEY_ID").is_some() => {
                    "AWS_ACCESS_KEY_ID from the environment".to_string()
                }
                _ => "the default credential chain (environment, default profile, SSO, web identity, instance metadata)".to_string(),
            },
        };
        match self.cfn().await.identity(&region).await {
            Ok(who) => Ok(format!("account {} as {}", who.account, who.arn)),
            // Missing or rejected credentials: nothing else can work either, so this is the one
            // error the run shows.
            Err(e @ CfnError::Credentials { .. }) => bail!(
                "cannot tell who this run acts as ({tried}): {e}\nnothing was sent to CloudFormation; check the credentials: `aws sso login`, `aws sts get-caller-identity --profile NAME`, or pass --profile"
            ),
            // A name that does not resolve or a port where nothing listens will not serve
            // CloudFormation either.
            Err(e @ CfnError::Transport { .. })
                if e.message().contains("dns error") || e.message().contains("Connection refused") =>
            {
                bail!(
                    "cannot reach AWS: {e}\nnothing was sent to CloudFormation; check the region (--region), AWS_ENDPOINT_URL, the network or a proxy"
                )
            }
            // STS answered, but not with an identity (an endpoint without STS, say): the run goes
            // on, and the header says the account is unknown and why.
            Err(e) => {
                tracing::info!(error = %e, "STS did not say who this run acts as");
                Ok(format!(
                    "account unknown (GetCallerIdentity: {})",
                    crate::render::truncate(e.message(), 80)
                ))
            }
        }
    }
}

/// `us-east-1`, `eu-west-2`, `us-gov-west-1`, `cn-north-1`: letters, a hyphen, a word, a number.
fn looks_like_a_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_before_any_call() {
        for good in [
            "us-east-1",
            "eu-west-2",
            "us-gov-west-1",
            "ap-southeast-4",
            "cn-north-1",
        ] {
            assert!(looks_like_a_region(good), "{good}");
        }
        for bad in [
            "us-east",
            "useast1",
            "us-east-1a",
            "US-EAST-1",
            "us--1",
            "eu-west-x",
        ] {
            assert!(!looks_like_a_region(bad), "{bad}");
        }
    }
}
