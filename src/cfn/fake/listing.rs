//! The fake's ListStacks (the clock of a fleet's watching) and DescribeStacks, of one stack or of a
//! whole region.

use super::{find, FakeCfn};
use crate::cfn::CfnError;
use crate::model::{ListedStack, Stack, StackStatus};

impl FakeCfn {
    /// `ListStacks`: every stack listed in one of `statuses`, after time passed for every
    /// stack with an operation running (as it does between two reads).
    pub(super) fn listing(
        &self,
        region: &str,
        statuses: &[StackStatus],
    ) -> Result<Vec<ListedStack>, CfnError> {
        let lost = self.enter("ListStacks", region)?;
        let mut st = self.state();
        // Time passes for every stack with an operation running, as it does between two reads.
        let running: Vec<String> = st
            .stacks
            .iter()
            .filter(|s| s.stack.status.is_in_progress())
            .map(|s| s.stack.stack_id.clone())
            .collect();
        for id in running {
            FakeCfn::advance(&mut st, &id);
        }
        let listed = st
            .stacks
            .iter()
            .filter(|s| statuses.contains(&s.stack.status))
            .map(|s| ListedStack {
                name: s.stack.name.clone(),
                stack_id: s.stack.stack_id.clone(),
                status: s.stack.status.clone(),
            })
            .collect();
        if lost {
            return Err(FakeCfn::lost("ListStacks"));
        }
        Ok(listed)
    }

    pub(super) fn every_stack(&self, region: &str) -> Result<Vec<Stack>, CfnError> {
        let lost = self.enter("DescribeStacks", region)?;
        let st = self.state();
        let stacks = st
            .stacks
            .iter()
            .filter(|s| s.stack.status != StackStatus::DeleteComplete)
            .map(|s| Stack {
                termination_protection: s.termination_protection,
                ..s.stack.clone()
            })
            .collect();
        if lost {
            return Err(FakeCfn::lost("DescribeStacks"));
        }
        Ok(stacks)
    }

    /// `DescribeStacks` of one stack: time passes for it first, as between two reads.
    pub(super) fn one_stack(&self, stack: &str) -> Result<Option<Stack>, CfnError> {
        let lost = self.enter("DescribeStacks", stack)?;
        let mut st = self.state();
        FakeCfn::advance(&mut st, stack);
        let found = find(&st.stacks, stack)
            .filter(|s| s.stack.status != StackStatus::DeleteComplete || s.stack.stack_id == stack)
            .map(|s| Stack {
                termination_protection: s.termination_protection,
                ..s.stack.clone()
            });
        if lost {
            return Err(FakeCfn::lost("DescribeStacks"));
        }
        Ok(found)
    }
}
