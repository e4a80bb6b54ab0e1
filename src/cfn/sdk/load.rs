//! Building the SDK configuration as the AWS CLI would: the region from --region, the
//! environment or the profile (never the instance metadata service), credentials from the default
//! chain or an explicit --profile, every call bounded by timeouts, retries left to cfdeploy.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use super::{Governor, SdkCloudFormation, SdkOptions};

impl SdkCloudFormation {
    /// Loads the default credential chain (env, profiles, SSO, web identity) and honours
    /// `AWS_ENDPOINT_URL`, as the AWS CLI does.
    pub async fn load(options: &SdkOptions) -> SdkCloudFormation {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // cfdeploy retries itself (`send`), so that every throttled answer reaches the
            // governor and every retry waits its turn.
            .retry_config(RetryConfig::disabled())
            // Every call is bounded: an endpoint that accepts the connection and never answers
            // fails the attempt, and the attempts are bounded too.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(options.connect_timeout)
                    .read_timeout(options.call_timeout)
                    .operation_attempt_timeout(options.call_timeout)
                    .build(),
            );
        // The region as the AWS CLI finds it: --region, the environment, then the profile. Never
        // the instance metadata service, which a laptop does not have (asking it costs seconds
        // and prints warnings) and whose region is the runner's, not the deploy's.
        let region = match &options.region {
            Some(region) => Some(Region::new(region.clone())),
            None => {
                let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
                if let Some(name) = &options.profile {
                    profile = profile.profile_name(name);
                }
                aws_config::meta::region::RegionProviderChain::first_try(
                    aws_config::environment::region::EnvironmentVariableRegionProvider::new(),
                )
                .or_else(profile.build())
                .region()
                .await
            }
        };
        // The STS calls credentials may need (web identity, assumed roles) go to the region's
        // endpoint, or without one to us-east-1's, rather than asking the metadata service.
        let sts_region = region
            .clone()
            .unwrap_or_else(|| Region::from_static("us-east-1"));
        let provider_config = aws_config::provider_config::ProviderConfig::default()
            .with_region(Some(sts_region.clone()));
        // Given even when there is none, or the loader would ask the metadata service itself;
        // and so is the SSO token chain's.
        loader = loader.region(region).token_provider(
            aws_config::default_provider::token::DefaultTokenChain::builder()
                .region(sts_region.clone())
                .build()
                .await,
        );
        if let Some(profile) = &options.profile {
            // An explicit --profile wins over credentials in the environment, as in the AWS CLI
            // (the default chain would take AWS_ACCESS_KEY_ID first).
            loader = loader.profile_name(profile).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(profile)
                    .build(),
            );
        } else {
            loader = loader.credentials_provider(
                aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                    .region(sts_region)
                    .build()
                    .await,
            );
        }
        SdkCloudFormation {
            config: loader.load().await,
            clients: Mutex::new(HashMap::new()),
            s3_clients: Mutex::new(HashMap::new()),
            sfn_clients: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
            custom_endpoint: options.custom_endpoint,
            call_timeout: options.call_timeout,
            attempts: options.max_attempts.max(1),
            governor: Governor::new(),
        }
    }
}
