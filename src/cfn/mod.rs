//! The AWS boundary. `CloudFormation` is the one trait commands talk to; `sdk` implements it with
//! the AWS SDK and is the only module that names `aws_sdk_cloudformation`, `aws_sdk_s3` (template
//! uploads) or `aws_config`.

pub mod change_set;
#[cfg(test)]
pub mod fake;
pub mod governor;
pub mod pacer;
pub mod sdk;

use std::future::Future;

use crate::model::{
    ChangeSetPage, DriftDetection, ListedStack, ResourceDrift, Stack, StackEventPage, StackStatus,
};

/// The CloudFormation calls cfdeploy makes. Every call names its region, because one fleet may
/// span several.
pub trait CloudFormation: Send + Sync + 'static {
    /// `None` when the stack does not exist (or only as `DELETE_COMPLETE`).
    fn describe_stack(
        &self,
        region: &str,
        stack: &str,
    ) -> impl Future<Output = Result<Option<Stack>, CfnError>> + Send;

    /// The deployed template as it was submitted (`TemplateStage=Original`).
    fn get_template(
        &self,
        region: &str,
        stack: &str,
    ) -> impl Future<Output = Result<String, CfnError>> + Send;

    fn create_change_set(
        &self,
        region: &str,
        request: &ChangeSetRequest,
    ) -> impl Future<Output = Result<CreatedChangeSet, CfnError>> + Send;

    /// One page of the change set, addressed by ARN.
    fn describe_change_set(
        &self,
        region: &str,
        arn: &str,
        include_property_values: bool,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<ChangeSetPage, CfnError>> + Send;

    /// The ARN of the stack's change set named `name`, if it exists: to find a change set whose
    /// creation was answered with an error after it took effect.
    fn find_change_set(
        &self,
        region: &str,
        stack: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, CfnError>> + Send;

    fn delete_change_set(
        &self,
        region: &str,
        arn: &str,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `token` is the client request token: a retry with the same token is recognised by
    /// CloudFormation, and the operation's stack events carry it.
    fn execute_change_set(
        &self,
        region: &str,
        arn: &str,
        disable_rollback: bool,
        token: &str,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// One page of the stack's events, newest first.
    fn describe_stack_events(
        &self,
        region: &str,
        stack: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<StackEventPage, CfnError>> + Send;

    /// Every stack of the region whose status is one of `statuses`, all pages (`ListStacks`): one
    /// call (per hundred stacks listed) answers for a whole fleet, however large.
    fn list_stacks(
        &self,
        region: &str,
        statuses: &[StackStatus],
    ) -> impl Future<Output = Result<Vec<ListedStack>, CfnError>> + Send;

    /// Every stack of the region with its tags, all pages (`DescribeStacks` without a name; one
    /// call per hundred stacks): how a fleet's deployed stacks are found by their tag.
    fn describe_stacks(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<Stack>, CfnError>> + Send;

    /// Starts drift detection on the stack (`DetectStackDrift`); returns the detection id.
    fn detect_stack_drift(
        &self,
        region: &str,
        stack: &str,
    ) -> impl Future<Output = Result<String, CfnError>> + Send;

    fn drift_detection_status(
        &self,
        region: &str,
        detection_id: &str,
    ) -> impl Future<Output = Result<DriftDetection, CfnError>> + Send;

    /// Every resource of the stack that drifted (`MODIFIED` or `DELETED`), all pages.
    fn resource_drifts(
        &self,
        region: &str,
        stack: &str,
    ) -> impl Future<Output = Result<Vec<ResourceDrift>, CfnError>> + Send;

    fn update_termination_protection(
        &self,
        region: &str,
        stack: &str,
        enabled: bool,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    fn cancel_update_stack(
        &self,
        region: &str,
        stack: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    fn continue_update_rollback(
        &self,
        region: &str,
        stack: &str,
        resources_to_skip: &[String],
        token: &str,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    fn rollback_stack(
        &self,
        region: &str,
        stack: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `retain`: logical ids to leave in place, accepted only for a stack in DELETE_FAILED.
    fn delete_stack(
        &self,
        region: &str,
        stack: &str,
        token: &str,
        retain: &[String],
    ) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// Puts an object in S3 (a template too large to send inline, a packaged artifact) unless
    /// one is already stored under `key` (keys are content-addressed), and returns the URL
    /// CloudFormation reads it from.
    fn upload(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> impl Future<Output = Result<String, CfnError>> + Send;
}

/// Where CloudFormation reads a change set's template from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    Body(String),
    /// An S3 URL (templates over 51,200 bytes).
    Url(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetType {
    Create,
    Update,
}

/// Everything `CreateChangeSet` is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRequest {
    pub stack_name: String,
    pub change_set_name: String,
    pub change_set_type: ChangeSetType,
    pub description: String,
    pub template: TemplateSource,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub capabilities: Vec<String>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    /// `ClientToken`: a retry of the same request is recognised instead of refused.
    pub client_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedChangeSet {
    pub arn: String,
    pub stack_id: Option<String>,
}

/// A failed CloudFormation call, typed where callers branch on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CfnError {
    /// Still throttled after the SDK's retries with backoff.
    #[error(
        "{operation}: rate exceeded (throttled by CloudFormation, still after retries): {message}"
    )]
    Throttled { operation: String, message: String },
    #[error("{operation}: {code}: {message}")]
    Api {
        operation: String,
        code: String,
        message: String,
    },
    /// The request never got an answer: no connection, timeout, unreadable response.
    #[error("{operation}: {message}")]
    Transport { operation: String, message: String },
    /// Something other than CloudFormation answered (a proxy's page, a wrong endpoint).
    #[error("{operation}: {endpoint} answered HTTP {status}, which is not an answer from CloudFormation: \"{body}\" — check AWS_ENDPOINT_URL, a proxy or a firewall")]
    NotCloudFormation {
        operation: String,
        endpoint: String,
        status: u16,
        body: String,
    },
    /// The credentials are missing, expired or not accepted.
    #[error("{operation}: {message}. cfdeploy looks for credentials as the AWS CLI does: --profile (or AWS_PROFILE), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared config and credentials files, SSO, web identity, and container or instance metadata; refresh them (for SSO: `aws sso login`) or pass --profile")]
    Credentials { operation: String, message: String },
}

impl CfnError {
    pub fn code(&self) -> Option<&str> {
        match self {
            CfnError::Api { code, .. } => Some(code),
            CfnError::Throttled { .. } => Some("Throttling"),
            CfnError::Transport { .. }
            | CfnError::NotCloudFormation { .. }
            | CfnError::Credentials { .. } => None,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CfnError::Api { message, .. }
            | CfnError::Throttled { message, .. }
            | CfnError::Transport { message, .. }
            | CfnError::Credentials { message, .. } => message,
            CfnError::NotCloudFormation { body, .. } => body,
        }
    }

    /// Waiting and trying again may help (throttling, a dropped connection, a timeout).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CfnError::Throttled { .. } | CfnError::Transport { .. }
        )
    }
}
