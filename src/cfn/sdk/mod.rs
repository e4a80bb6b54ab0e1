//! The AWS SDK adapter: the only module that names `aws_sdk_cloudformation` or `aws_config`. It
//! converts SDK types into the domain model at the boundary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::types as t;

mod convert;
mod drift;
mod identity;
mod listing;
mod load;
mod s3;
mod sfn;

pub use identity::Identity;

use super::governor::Governor;

use convert::{convert_error, convert_event, convert_resource_change, convert_stack, CallContext};

use super::{
    CfnError, ChangeSetRequest, ChangeSetType, CloudFormation, CreatedChangeSet, TemplateSource,
};
use crate::model::{
    ChangeSetPage, ChangeSetStatus, DriftDetection, ListedStack, ResourceDrift, Stack,
    StackEventPage, StackStatus,
};

/// How long throttling is waited out before a call fails: long enough for any fleet to get its
/// turn under an account's limit.
const THROTTLING_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// The first wait after a failed attempt, doubling up to the cap.
const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_CAP: Duration = Duration::from_secs(10);
/// Error codes of a server that may answer on a later attempt.
const SERVER_ERRORS: &[&str] = &[
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// How the SDK is set up: the AWS CLI's `--profile` and `--region`, retries and timeouts.
#[derive(Debug, Clone)]
pub struct SdkOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Attempts per call, including the first; throttling is retried with exponential backoff.
    pub max_attempts: u32,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for one attempt of a call to be answered.
    pub call_timeout: Duration,
    /// A custom endpoint is set (`AWS_ENDPOINT_URL`): address S3 buckets by path there.
    pub custom_endpoint: bool,
}

impl Default for SdkOptions {
    fn default() -> Self {
        SdkOptions {
            profile: None,
            region: None,
            max_attempts: 8,
            connect_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(60),
            custom_endpoint: false,
        }
    }
}

/// CloudFormation through the AWS SDK, one client per region, built on first use.
pub struct SdkCloudFormation {
    config: SdkConfig,
    clients: Mutex<HashMap<String, cfn::Client>>,
    s3_clients: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    sfn_clients: Mutex<HashMap<String, aws_sdk_sfn::Client>>,
    calls: AtomicU64,
    custom_endpoint: bool,
    call_timeout: Duration,
    attempts: u32,
    governor: Governor,
}

/// Every page of a paged read: `page(token)` reads one page and returns its items and the next
/// page's token (none, or empty, on the last).
pub(super) async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, CfnError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), CfnError>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let (more, next) = page(token.take()).await?;
        items.extend(more);
        match next {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(items),
        }
    }
}

impl SdkCloudFormation {
    /// Throttled answers this run has seen (and waited out).
    pub fn throttled(&self) -> u64 {
        self.governor.throttled_count()
    }

    /// Sends a call when the governor allows, and retries it: throttling until
    /// `THROTTLING_DEADLINE` (each throttled answer slows the whole run down), a dropped
    /// connection, a timeout or a server error up to the configured attempts, with growing,
    /// jittered waits. Mutating calls carry client request tokens, so a retry is never a second
    /// operation.
    async fn send<O, E, F, Fut>(
        &self,
        operation: &'static str,
        region: &str,
        call: F,
    ) -> Result<O, CfnError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<
            Output = Result<O, aws_sdk_cloudformation::error::SdkError<E, HttpResponse>>,
        >,
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        let started = tokio::time::Instant::now();
        let mut failures = 0u32;
        loop {
            self.governor.acquire(region).await;
            let err = match call().await {
                Ok(out) => {
                    self.governor.succeeded(region);
                    return Ok(out);
                }
                Err(e) => self.error(operation, region, e),
            };
            let retry = match &err {
                CfnError::Throttled { .. } => {
                    self.governor.throttled(region);
                    started.elapsed() < THROTTLING_DEADLINE
                }
                // A name that does not resolve (a mistyped region, say) will not resolve later.
                CfnError::Transport { message, .. } if message.contains("dns error") => false,
                CfnError::Transport { .. } => {
                    failures += 1;
                    failures < self.attempts
                }
                CfnError::Api { code, .. } if SERVER_ERRORS.contains(&code.as_str()) => {
                    failures += 1;
                    failures < self.attempts
                }
                _ => false,
            };
            if !retry {
                return Err(err);
            }
            tracing::debug!(operation, region, error = %err, "retrying");
            if failures > 0 && !matches!(err, CfnError::Throttled { .. }) {
                let base = RETRY_BASE.as_secs_f64() * 2f64.powi(failures as i32 - 1);
                let wait = base.min(RETRY_CAP.as_secs_f64()) * (0.5 + fastrand::f64() / 2.0);
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            }
        }
    }

    /// Where calls for `region` go: the custom endpoint, or CloudFormation's in the region.
    fn endpoint(&self, region: &str) -> String {
        self.config
            .endpoint_url()
            .map(str::to_string)
            .unwrap_or_else(|| format!("https://cloudformation.{region}.amazonaws.com"))
    }

    fn error<E>(
        &self,
        operation: &'static str,
        region: &str,
        err: aws_sdk_cloudformation::error::SdkError<E, HttpResponse>,
    ) -> CfnError
    where
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        convert_error(
            &CallContext {
                operation,
                endpoint: self.endpoint(region),
                call_timeout: self.call_timeout,
                attempts: self.attempts,
            },
            err,
        )
    }

    /// The region the default chain resolved (`--region`, env, profile), if any.
    pub fn default_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    /// How many CloudFormation requests were started (retries not counted).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn client(&self, region: &str, operation: &'static str) -> cfn::Client {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(operation, region, "aws call");
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = cfn::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .build();
                cfn::Client::from_conf(conf)
            })
            .clone()
    }
}

impl CloudFormation for SdkCloudFormation {
    async fn describe_stack(&self, region: &str, stack: &str) -> Result<Option<Stack>, CfnError> {
        let op = "DescribeStacks";
        let client = self.client(region, op);
        let result = self
            .send(op, region, || {
                client.describe_stacks().stack_name(stack).send()
            })
            .await;
        match result {
            Ok(out) => Ok(out.stacks().first().map(convert_stack)),
            Err(err)
                if err.code() == Some("ValidationError")
                    && err.message().contains("does not exist") =>
            {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    async fn get_template(&self, region: &str, stack: &str) -> Result<String, CfnError> {
        let op = "GetTemplate";
        let client = self.client(region, op);
        let out = self
            .send(op, region, || {
                client
                    .get_template()
                    .stack_name(stack)
                    .template_stage(t::TemplateStage::Original)
                    .send()
            })
            .await?;
        Ok(out.template_body().unwrap_or_default().to_string())
    }

    async fn create_change_set(
        &self,
        region: &str,
        request: &ChangeSetRequest,
    ) -> Result<CreatedChangeSet, CfnError> {
        let op = "CreateChangeSet";
        let mut call = self
            .client(region, op)
            .create_change_set()
            .stack_name(&request.stack_name)
            .change_set_name(&request.change_set_name)
            .change_set_type(match request.change_set_type {
                ChangeSetType::Create => t::ChangeSetType::Create,
                ChangeSetType::Update => t::ChangeSetType::Update,
            })
            .description(&request.description)
            .client_token(&request.client_token)
            .set_role_arn(request.role_arn.clone());
        call = match &request.template {
            TemplateSource::Body(body) => call.template_body(body),
            TemplateSource::Url(url) => call.template_url(url),
        };
        for (key, value) in &request.parameters {
            call = call.parameters(
                t::Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
            );
        }
        for (key, value) in &request.tags {
            call = call.tags(t::Tag::builder().key(key).value(value).build());
        }
        for capability in &request.capabilities {
            call = call.capabilities(t::Capability::from(capability.as_str()));
        }
        for arn in &request.notification_arns {
            call = call.notification_arns(arn);
        }
        let out = self.send(op, region, || call.clone().send()).await?;
        Ok(CreatedChangeSet {
            arn: out.id().unwrap_or_default().to_string(),
            stack_id: out.stack_id().map(str::to_string),
        })
    }

    async fn describe_change_set(
        &self,
        region: &str,
        arn: &str,
        include_property_values: bool,
        next_token: Option<&str>,
    ) -> Result<ChangeSetPage, CfnError> {
        let op = "DescribeChangeSet";
        let client = self.client(region, op);
        let out = self
            .send(op, region, || {
                client
                    .describe_change_set()
                    .change_set_name(arn)
                    .include_property_values(include_property_values)
                    .set_next_token(next_token.map(str::to_string))
                    .send()
            })
            .await?;
        Ok(ChangeSetPage {
            stack_id: out.stack_id().map(str::to_string),
            stack_name: out.stack_name().map(str::to_string),
            status: ChangeSetStatus::parse(out.status().map(|s| s.as_str()).unwrap_or("")),
            status_reason: out.status_reason().map(str::to_string),
            execution_status: out.execution_status().map(|s| s.as_str().to_string()),
            changes: out
                .changes()
                .iter()
                .filter_map(|c| c.resource_change())
                .map(convert_resource_change)
                .collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn find_change_set(
        &self,
        region: &str,
        stack: &str,
        name: &str,
    ) -> Result<Option<String>, CfnError> {
        let op = "DescribeChangeSet";
        let client = self.client(region, op);
        let result = self
            .send(op, region, || {
                client
                    .describe_change_set()
                    .stack_name(stack)
                    .change_set_name(name)
                    .send()
            })
            .await;
        match result {
            Ok(out) => Ok(out.change_set_id().map(str::to_string)),
            Err(e)
                if matches!(
                    e.code(),
                    Some("ChangeSetNotFound" | "ChangeSetNotFoundException")
                ) || (e.code() == Some("ValidationError")
                    && e.message().contains("does not exist")) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn delete_change_set(&self, region: &str, arn: &str) -> Result<(), CfnError> {
        let op = "DeleteChangeSet";
        let client = self.client(region, op);
        self.send(op, region, || {
            client.delete_change_set().change_set_name(arn).send()
        })
        .await?;
        Ok(())
    }

    async fn execute_change_set(
        &self,
        region: &str,
        arn: &str,
        disable_rollback: bool,
        token: &str,
    ) -> Result<(), CfnError> {
        let op = "ExecuteChangeSet";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .execute_change_set()
                .change_set_name(arn)
                .disable_rollback(disable_rollback)
                .client_request_token(token)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn describe_stack_events(
        &self,
        region: &str,
        stack: &str,
        next_token: Option<&str>,
    ) -> Result<StackEventPage, CfnError> {
        let op = "DescribeStackEvents";
        let client = self.client(region, op);
        let out = self
            .send(op, region, || {
                client
                    .describe_stack_events()
                    .stack_name(stack)
                    .set_next_token(next_token.map(str::to_string))
                    .send()
            })
            .await?;
        Ok(StackEventPage {
            events: out.stack_events().iter().map(convert_event).collect(),
            next_token: out.next_token().map(str::to_string),
        })
    }

    async fn list_stacks(
        &self,
        region: &str,
        statuses: &[StackStatus],
    ) -> Result<Vec<ListedStack>, CfnError> {
        self.list_by_status(region, statuses).await
    }

    async fn describe_stacks(&self, region: &str) -> Result<Vec<Stack>, CfnError> {
        self.describe_region(region).await
    }

    async fn detect_stack_drift(&self, region: &str, stack: &str) -> Result<String, CfnError> {
        self.start_drift_detection(region, stack).await
    }

    async fn drift_detection_status(
        &self,
        region: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, CfnError> {
        self.drift_detection(region, detection_id).await
    }

    async fn resource_drifts(
        &self,
        region: &str,
        stack: &str,
    ) -> Result<Vec<ResourceDrift>, CfnError> {
        self.drifted_resources(region, stack).await
    }

    async fn update_termination_protection(
        &self,
        region: &str,
        stack: &str,
        enabled: bool,
    ) -> Result<(), CfnError> {
        let op = "UpdateTerminationProtection";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .update_termination_protection()
                .stack_name(stack)
                .enable_termination_protection(enabled)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn cancel_update_stack(
        &self,
        region: &str,
        stack: &str,
        token: &str,
    ) -> Result<(), CfnError> {
        let op = "CancelUpdateStack";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .cancel_update_stack()
                .stack_name(stack)
                .client_request_token(token)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn continue_update_rollback(
        &self,
        region: &str,
        stack: &str,
        resources_to_skip: &[String],
        token: &str,
    ) -> Result<(), CfnError> {
        let op = "ContinueUpdateRollback";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .continue_update_rollback()
                .stack_name(stack)
                .client_request_token(token)
                .set_resources_to_skip(
                    (!resources_to_skip.is_empty()).then(|| resources_to_skip.to_vec()),
                )
                .send()
        })
        .await?;
        Ok(())
    }

    async fn rollback_stack(&self, region: &str, stack: &str, token: &str) -> Result<(), CfnError> {
        let op = "RollbackStack";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .rollback_stack()
                .stack_name(stack)
                .client_request_token(token)
                .send()
        })
        .await?;
        Ok(())
    }

    async fn delete_stack(
        &self,
        region: &str,
        stack: &str,
        token: &str,
        retain: &[String],
    ) -> Result<(), CfnError> {
        let op = "DeleteStack";
        let client = self.client(region, op);
        self.send(op, region, || {
            client
                .delete_stack()
                .stack_name(stack)
                .client_request_token(token)
                .set_retain_resources((!retain.is_empty()).then(|| retain.to_vec()))
                .send()
        })
        .await?;
        Ok(())
    }

    async fn upload(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> Result<String, CfnError> {
        self.put_once(region, bucket, key, body).await
    }
}
