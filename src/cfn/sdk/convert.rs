//! SDK types into the domain model, at the boundary.

use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types as t;

use crate::cfn::CfnError;
use crate::model::{
    Action, EventStatus, PropertyChange, Replacement, RequiresRecreation, ResourceChange, Stack,
    StackEvent, StackStatus,
};

pub(super) fn convert_event(e: &t::StackEvent) -> StackEvent {
    StackEvent {
        event_id: e.event_id().unwrap_or_default().to_string(),
        stack_name: e.stack_name().unwrap_or_default().to_string(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: e
            .physical_resource_id()
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        resource_type: e.resource_type().unwrap_or_default().to_string(),
        status: EventStatus(
            e.resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ),
        reason: e.resource_status_reason().map(str::to_string),
        timestamp: e
            .timestamp()
            .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
            .unwrap_or_default(),
        client_request_token: e
            .client_request_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    }
}

/// Where a call went and how long it could take, for errors a person can act on.
#[derive(Debug, Clone)]
pub(super) struct CallContext<'a> {
    pub operation: &'a str,
    pub endpoint: String,
    pub call_timeout: std::time::Duration,
    pub attempts: u32,
}

/// Codes CloudFormation (and the SDK) use for throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// Codes that mean the credentials themselves are the problem.
const CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AccessDeniedException",
];

/// The SDK's error as a `CfnError` that names what answered (or did not) and what to check.
pub(super) fn convert_error<E>(call: &CallContext<'_>, err: SdkError<E, HttpResponse>) -> CfnError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let operation = call.operation.to_string();
    if let SdkError::ServiceError(service) = &err {
        let inner = service.err();
        if let Some(code) = inner.code() {
            let message = inner.message().unwrap_or("(no message)").to_string();
            if THROTTLING.contains(&code) {
                return CfnError::Throttled { operation, message };
            }
            if CREDENTIALS.contains(&code) {
                return CfnError::Credentials {
                    operation,
                    message: format!("{code}: {message}"),
                };
            }
            return CfnError::Api {
                operation,
                code: code.to_string(),
                message,
            };
        }
    }
    // An answer without a CloudFormation error code: something else answered.
    if let Some(raw) = err.raw_response() {
        let status = raw.status().as_u16();
        if !(200..300).contains(&status) || matches!(err, SdkError::ResponseError(_)) {
            let body = raw
                .body()
                .bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let start: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let start: String = start.chars().take(200).collect();
            return CfnError::NotCloudFormation {
                operation,
                endpoint: call.endpoint.clone(),
                status,
                body: start,
            };
        }
    }
    let detail = DisplayErrorContext(&err).to_string();
    let lower = detail.to_ascii_lowercase();
    if lower.contains("credential") || lower.contains("profile") {
        return CfnError::Credentials {
            operation,
            message: format!("no usable AWS credentials: {}", readable_cause(&err)),
        };
    }
    let timed_out = matches!(err, SdkError::TimeoutError(_))
        || matches!(&err, SdkError::DispatchFailure(d) if d.is_timeout());
    let message = if timed_out {
        format!(
            "no answer from {} within {}s (tried {} time{}); check the network, a proxy, or AWS_ENDPOINT_URL (--call-timeout and --max-attempts set the limits)",
            call.endpoint,
            call.call_timeout.as_secs(),
            call.attempts,
            if call.attempts == 1 { "" } else { "s" }
        )
    } else if matches!(err, SdkError::DispatchFailure(_)) {
        format!(
            "could not reach {}: {}",
            call.endpoint,
            readable_cause(&err)
        )
    } else {
        detail
    };
    CfnError::Transport { operation, message }
}

/// The innermost cause of an error that reads as a sentence (the SDK's chain ends in debug
/// structures).
fn readable_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut readable = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.trim().is_empty() && !text.contains('{') && !text.contains('}') {
            readable = text;
        }
        source = cause.source();
    }
    readable
}

pub(super) fn convert_stack(s: &t::Stack) -> Stack {
    Stack {
        stack_id: s.stack_id().unwrap_or_default().to_string(),
        name: s.stack_name().unwrap_or_default().to_string(),
        status: StackStatus::parse(s.stack_status().map(|st| st.as_str()).unwrap_or_default()),
        status_reason: s.stack_status_reason().map(str::to_string),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        parent_id: s.parent_id().map(str::to_string),
        last_updated: s
            .last_updated_time()
            .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok()),
        creation_time: s
            .creation_time()
            .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok()),
        parameters: s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| crate::model::StackOutput {
                key: o.output_key().unwrap_or_default().to_string(),
                value: o.output_value().unwrap_or_default().to_string(),
                description: o.description().map(str::to_string),
                export_name: o.export_name().map(str::to_string),
            })
            .collect(),
    }
}

pub(super) fn convert_resource_change(rc: &t::ResourceChange) -> ResourceChange {
    let action = Action::parse(rc.action().map(|a| a.as_str()).unwrap_or(""));
    ResourceChange {
        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: rc
            .physical_resource_id()
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        // CloudFormation sends Replacement True with additions described with property values;
        // replacing is only meaningful for a Modify.
        replacement: rc
            .replacement()
            .filter(|_| action == Action::Modify)
            .map(|r| Replacement::parse(r.as_str())),
        policy_action: rc.policy_action().map(|p| p.as_str().to_string()),
        drift: None,
        action,
        scope: rc.scope().iter().map(|s| s.as_str().to_string()).collect(),
        details: rc.details().iter().map(convert_detail).collect(),
        destructive: None,
    }
}

fn convert_detail(d: &t::ResourceChangeDetail) -> PropertyChange {
    let target = d.target();
    PropertyChange {
        attribute: target
            .and_then(|t| t.attribute())
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        name: target.and_then(|t| t.name()).map(str::to_string),
        path: target.and_then(|t| t.path()).map(str::to_string),
        requires_recreation: target
            .and_then(|t| t.requires_recreation())
            .map(|r| RequiresRecreation::parse(r.as_str())),
        before: target.and_then(|t| t.before_value()).map(str::to_string),
        after: target.and_then(|t| t.after_value()).map(str::to_string),
        change_type: target
            .and_then(|t| t.attribute_change_type())
            .map(|a| a.as_str().to_string()),
        change_source: d.change_source().map(|c| c.as_str().to_string()),
        causing_entity: d.causing_entity().map(str::to_string),
        evaluation: d.evaluation().map(|e| e.as_str().to_string()),
        causes: Vec::new(),
        value_changes: Vec::new(),
    }
}
