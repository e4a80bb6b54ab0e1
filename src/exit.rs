//! Every exit status cfdeploy uses, and what it means, in one place. The README's exit-code
//! tables are this enum in words.

use std::process::ExitCode;

use crate::model::OutcomeKind;

/// How a run ended. A run over many stacks exits with the most severe status any stack calls for
/// ([`Exit::worst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every stack succeeded or was unchanged; for `plan`, the plan succeeded.
    Ok,
    /// `plan --detailed-exitcode`: the plan succeeded and at least one stack has changes.
    Changes,
    /// Bad input; or a stack failed and was rolled back cleanly, was refused, failed to plan, or
    /// was not started after a failure.
    Failure,
    /// A stack has destructive changes that were not allowed; nothing was executed for it.
    Destructive,
    /// A stack is left in a state that needs a person.
    NeedsAPerson,
    /// cfdeploy lost track of an operation: it may still be running, its outcome is unknown.
    Unknown,
    /// Interrupted by Ctrl-C (SIGINT), following the 128 + signal convention.
    Interrupted,
    /// Stopped by SIGTERM (what a CI runner sends when a job is cancelled).
    Terminated,
    /// The command line itself is wrong (an unknown flag, a value out of range): 64, as
    /// sysexits' EX_USAGE, never 2, which `plan --detailed-exitcode` uses for "changes present".
    Usage,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Changes => 2,
            Exit::Destructive => 3,
            Exit::NeedsAPerson => 4,
            Exit::Unknown => 5,
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
            Exit::Usage => 64,
        }
    }

    /// The status of a run that a signal interrupted: 143 for SIGTERM, 130 for Ctrl-C; `self`
    /// when no signal came.
    pub fn after_signals(self) -> Exit {
        match crate::signals::received() {
            None => self,
            Some(crate::signals::Signal::Terminate) => Exit::Terminated,
            Some(crate::signals::Signal::Interrupt) => Exit::Interrupted,
        }
    }

    /// How much the status matters when stacks end differently: the run reports the worst.
    fn severity(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Changes => 1,
            Exit::Failure => 2,
            Exit::Destructive => 3,
            Exit::NeedsAPerson => 4,
            Exit::Unknown => 5,
            Exit::Usage => 6,
            Exit::Interrupted | Exit::Terminated => 7,
        }
    }

    /// The more severe of two statuses.
    pub fn worst(self, other: Exit) -> Exit {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The most severe of many statuses; `Ok` for none.
    pub fn worst_of(statuses: impl IntoIterator<Item = Exit>) -> Exit {
        statuses.into_iter().fold(Exit::Ok, Exit::worst)
    }
}

impl From<OutcomeKind> for Exit {
    /// The status one stack's outcome calls for.
    fn from(kind: OutcomeKind) -> Exit {
        use OutcomeKind as K;
        match kind {
            K::Created | K::Updated | K::Unchanged | K::Repaired | K::Deleted => Exit::Ok,
            K::RolledBack | K::Refused | K::NotStarted => Exit::Failure,
            K::Blocked => Exit::Destructive,
            K::CreateRolledBack | K::RollbackFailed | K::FailedKept | K::DeleteFailed => {
                Exit::NeedsAPerson
            }
            K::Cancelled | K::Abandoned => Exit::Interrupted,
            K::Deferred => Exit::Changes,
            K::Unknown => Exit::Unknown,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_wins_whatever_the_order() {
        let all = [
            Exit::Ok,
            Exit::Changes,
            Exit::Failure,
            Exit::Destructive,
            Exit::NeedsAPerson,
            Exit::Unknown,
            Exit::Interrupted,
        ];
        assert_eq!(Exit::worst_of(all), Exit::Interrupted);
        assert_eq!(Exit::worst_of(all.into_iter().rev()), Exit::Interrupted);
        assert_eq!(Exit::Terminated.code(), 143);
        assert_eq!(
            Exit::worst_of([Exit::NeedsAPerson, Exit::Failure]),
            Exit::NeedsAPerson
        );
        assert_eq!(Exit::worst_of([]), Exit::Ok);
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 2, 1, 3, 4, 5, 130]);
    }
}
