//! Reading a region's stacks at once: which are running (`ListStacks`, for watching a fleet) and
//! every stack with its tags (`DescribeStacks` without a name, for finding a fleet's stacks).

use aws_sdk_cloudformation::types as t;

use super::convert::convert_stack;
use super::{all_pages, SdkCloudFormation};
use crate::cfn::CfnError;
use crate::model::{ListedStack, Stack, StackStatus};

impl SdkCloudFormation {
    pub(super) async fn list_by_status(
        &self,
        region: &str,
        statuses: &[StackStatus],
    ) -> Result<Vec<ListedStack>, CfnError> {
        let op = "ListStacks";
        let filter: Vec<t::StackStatus> = statuses
            .iter()
            .map(|s| t::StackStatus::from(s.as_str()))
            .collect();
        all_pages(|token| {
            // One client hand-out per page: every page is a call counted.
            let (client, filter) = (self.client(region, op), &filter);
            async move {
                let out = self
                    .send(op, region, || {
                        client
                            .list_stacks()
                            .set_stack_status_filter(Some(filter.clone()))
                            .set_next_token(token.clone())
                            .send()
                    })
                    .await?;
                let listed = out
                    .stack_summaries()
                    .iter()
                    .map(|s| ListedStack {
                        name: s.stack_name().unwrap_or_default().to_string(),
                        stack_id: s.stack_id().unwrap_or_default().to_string(),
                        status: StackStatus::parse(
                            s.stack_status().map(|st| st.as_str()).unwrap_or_default(),
                        ),
                    })
                    .collect();
                Ok((listed, out.next_token().map(str::to_string)))
            }
        })
        .await
    }

    /// Every stack of the region (CloudFormation leaves deleted ones out), all pages.
    pub(super) async fn describe_region(&self, region: &str) -> Result<Vec<Stack>, CfnError> {
        let op = "DescribeStacks";
        all_pages(|token| {
            let client = self.client(region, op);
            async move {
                let out = self
                    .send(op, region, || {
                        client
                            .describe_stacks()
                            .set_next_token(token.clone())
                            .send()
                    })
                    .await?;
                let stacks = out.stacks().iter().map(convert_stack).collect();
                Ok((stacks, out.next_token().map(str::to_string)))
            }
        })
        .await
    }
}
