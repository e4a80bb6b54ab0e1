use super::*;
use crate::model::StackEvent;
use crate::render::wrap;

fn event(id: &str, rtype: &str, status: &str, reason: Option<&str>) -> StackEvent {
    StackEvent {
        event_id: format!("{id}-{status}"),
        stack_name: "orders-prod".into(),
        logical_id: id.into(),
        physical_id: None,
        resource_type: rtype.into(),
        status: crate::model::EventStatus(status.into()),
        reason: reason.map(str::to_string),
        timestamp: "2026-11-23T11:19:13Z".into(),
        client_request_token: None,
    }
}

#[test]
fn a_diagnosis_fits_a_narrow_terminal_without_splitting_identifiers() {
    let long = "Resource handler returned message: \"Queue quota exceeded for account\" (HandlerErrorCode: ServiceLimitExceeded)";
    let failed = event(
        "EventsQueue",
        "AWS::SQS::Queue",
        "CREATE_FAILED",
        Some(long),
    );
    let d = Diagnosis {
        stack: "orders-prod".into(),
        status: crate::model::StackStatus::UpdateRollbackComplete,
        root_causes: vec![failed.clone()],
        tail: vec![
            failed,
            event("orders-prod", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None),
        ],
        nested: vec![],
        next_step: "The update was rolled back; the stack runs its previous template. Fix the cause and apply again.".into(),
    };
    let mut out = Vec::new();
    diagnosis(
        &mut out,
        &crate::mask::Masker::default().mask(d),
        Style {
            color: false,
            width: Some(100),
        },
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    for whole in [
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "AWS::CloudFormation::Stack",
        "ServiceLimitExceeded)",
    ] {
        assert!(text.contains(whole), "{whole} was split:\n{text}");
    }
}

#[test]
fn free_text_wraps_between_words_and_keeps_its_indent() {
    let text = "      Resource handler returned message: quota exceeded for account";
    assert_eq!(
        wrap(text, Some(40), 6),
        "      Resource handler returned message:\n      quota exceeded for account"
    );
    assert_eq!(wrap(text, None, 6), text, "no width, no wrapping");
}

#[test]
fn a_diagnosis_fits_every_common_terminal_width() {
    let long = "Resource handler returned message: \"Queue quota exceeded for account\" (HandlerErrorCode: ServiceLimitExceeded)";
    let failed = event(
        "EventsQueue",
        "AWS::SQS::Queue",
        "CREATE_FAILED",
        Some(long),
    );
    let d = Diagnosis {
        stack: "orders-prod".into(),
        status: crate::model::StackStatus::UpdateRollbackComplete,
        root_causes: vec![failed.clone()],
        tail: vec![
            failed,
            event("orders-prod", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None),
            event("AVeryLongLogicalIdThatCdkGeneratesForConstructs1234ABCD", "AWS::ApplicationAutoScaling::ScalableTarget", "UPDATE_COMPLETE", None),
        ],
        nested: vec![],
        next_step: "The update was rolled back; the stack runs its previous template. Fix the cause and apply again.".into(),
    };
    for width in [60u16, 80, 100, 120] {
        let mut out = Vec::new();
        diagnosis(
            &mut out,
            &crate::mask::Masker::default().mask(d.clone()),
            Style {
                color: false,
                width: Some(width),
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "{width}: too wide: {line}\n{text}"
            );
        }
        assert!(
            text.contains("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
            "{width}: status split"
        );
    }
}

#[test]
fn the_outcomes_table_keeps_statuses_whole_and_wraps_notes_between_words() {
    let outcome = |stack: &str, kind, status, message: Option<&str>| Outcome {
        stack: stack.into(),
        region: "us-east-1".into(),
        kind,
        status,
        seconds: 75.0,
        message: message.map(str::to_string),
        diagnosis: None,
        outputs: Vec::new(),
    };
    let outcomes = vec![
        outcome(
            "orders-prod",
            OutcomeKind::RolledBack,
            Some(crate::model::StackStatus::UpdateRollbackComplete),
            None,
        ),
        outcome(
            "billing-prod",
            OutcomeKind::NotStarted,
            None,
            Some("not started: an earlier stack failed (--max-failures 1); its change set was deleted"),
        ),
    ];
    for width in [60u16, 72, 80, 100] {
        let mut out = Vec::new();
        super::outcomes(
            &mut out,
            &crate::mask::Masker::default().mask(outcomes.clone()),
            Style {
                color: false,
                width: Some(width),
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "{width}: too wide: {line}\n{text}"
            );
        }
        for whole in [
            "UPDATE_ROLLBACK_COMPLETE",
            "billing-prod",
            "--max-failures",
            "deleted",
            "rolled",
        ] {
            assert!(text.contains(whole), "{width}: {whole} was split:\n{text}");
        }
    }
}
