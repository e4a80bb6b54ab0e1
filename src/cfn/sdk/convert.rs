//! SDK types into the domain model, at the boundary.

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

pub(super) fn convert_error<E, R>(operation: &str, err: SdkError<E, R>) -> CfnError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("Unknown").to_string();
            let message = inner.message().unwrap_or("(no message)").to_string();
            if matches!(
                code.as_str(),
                "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException"
            ) {
                CfnError::Throttled {
                    operation: operation.to_string(),
                    message,
                }
            } else {
                CfnError::Api {
                    operation: operation.to_string(),
                    code,
                    message,
                }
            }
        }
        _ => CfnError::Transport {
            operation: operation.to_string(),
            message: DisplayErrorContext(&err).to_string(),
        },
    }
}

pub(super) fn convert_stack(s: &t::Stack) -> Stack {
    Stack {
        stack_id: s.stack_id().unwrap_or_default().to_string(),
        name: s.stack_name().unwrap_or_default().to_string(),
        status: StackStatus::parse(s.stack_status().map(|st| st.as_str()).unwrap_or_default()),
        status_reason: s.stack_status_reason().map(str::to_string),
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
    }
}

pub(super) fn convert_resource_change(rc: &t::ResourceChange) -> ResourceChange {
    ResourceChange {
        action: Action::parse(rc.action().map(|a| a.as_str()).unwrap_or("")),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: rc
            .physical_resource_id()
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        replacement: rc.replacement().map(|r| Replacement::parse(r.as_str())),
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
    }
}
