use super::*;

#[test]
fn every_documented_status_round_trips_and_has_a_family() {
    for status in StackStatus::ALL {
        assert_eq!(StackStatus::parse(status.as_str()), status);
        assert_ne!(status.family(), Family::Unknown, "{status}");
    }
    assert_eq!(
        StackStatus::parse("SOMETHING_NEW"),
        StackStatus::Other("SOMETHING_NEW".into())
    );
    assert_eq!(
        StackStatus::parse("SOMETHING_NEW").family(),
        Family::Unknown
    );
}

#[test]
fn in_progress_is_every_status_ending_in_in_progress_except_review() {
    for status in StackStatus::ALL {
        let expected =
            status.as_str().ends_with("_IN_PROGRESS") && status != StackStatus::ReviewInProgress;
        assert_eq!(status.is_in_progress(), expected, "{status}");
        assert_eq!(status.is_settled(), !expected, "{status}");
    }
}

#[test]
fn only_complete_and_cleanly_rolled_back_stacks_accept_an_update() {
    let updatable: Vec<&str> = StackStatus::ALL
        .iter()
        .filter(|s| s.accepts_update())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        updatable,
        [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE"
        ]
    );
}

#[test]
fn every_status_that_needs_a_person_says_what_to_run_by_stack_name() {
    for status in StackStatus::ALL {
        let advice = status.advice("orders-prod");
        match status.family() {
            Family::Complete => assert_eq!(advice, None, "{status}"),
            Family::NeedsRepair | Family::Failed | Family::Review | Family::InProgress => {
                let advice = advice.unwrap_or_else(|| panic!("{status} has no advice"));
                assert!(
                    advice.contains("`cfdeploy ") && advice.contains(" orders-prod"),
                    "{status}: {advice}"
                );
                assert!(!advice.contains("aws cloudformation"), "{status}: {advice}");
            }
            Family::RolledBack | Family::Deleted | Family::Unknown => {
                assert!(advice.is_some(), "{status}")
            }
        }
    }
}

#[test]
fn the_repair_for_each_status_matches_its_family() {
    for status in StackStatus::ALL {
        let repair = status.repair();
        match status.family() {
            Family::InProgress => assert_eq!(repair, Repair::Wait, "{status}"),
            Family::Complete | Family::RolledBack | Family::Deleted => {
                assert_eq!(repair, Repair::Nothing, "{status}")
            }
            Family::Failed => assert_eq!(repair, Repair::RollBack, "{status}"),
            Family::Review => assert_eq!(repair, Repair::Delete, "{status}"),
            Family::NeedsRepair => assert_ne!(repair, Repair::Nothing, "{status}"),
            Family::Unknown => unreachable!(),
        }
    }
    assert_eq!(
        StackStatus::UpdateRollbackFailed.repair(),
        Repair::ContinueRollback
    );
}

#[test]
fn event_statuses_know_failures_and_operation_starts() {
    assert!(EventStatus("UPDATE_FAILED".into()).is_failure());
    assert!(!EventStatus("UPDATE_COMPLETE".into()).is_failure());
    assert!(EventStatus("REVIEW_IN_PROGRESS".into()).starts_operation());
    assert!(!EventStatus("UPDATE_ROLLBACK_IN_PROGRESS".into()).starts_operation());
}
