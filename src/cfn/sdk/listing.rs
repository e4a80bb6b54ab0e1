//! Reading a region's stacks at once: which are running (`ListStacks`, for watching a fleet) and
//! every stack with its tags (`DescribeStacks` without a name, for finding a fleet's stacks).

use aws_sdk_cloudformation::types as t;

use super::convert::convert_stack;
use super::SdkCloudFormation;
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
        let mut listed = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let client = self.client(region, op);
            let out = self
                .send(op, region, || {
                    client
                        .list_stacks()
                        .set_stack_status_filter(Some(filter.clone()))
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await?;
            listed.extend(out.stack_summaries().iter().map(|s| ListedStack {
                name: s.stack_name().unwrap_or_default().to_string(),
                stack_id: s.stack_id().unwrap_or_default().to_string(),
                status: StackStatus::parse(
                    s.stack_status().map(|st| st.as_str()).unwrap_or_default(),
                ),
            }));
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(listed),
            }
        }
    }

    /// Every stack of the region (CloudFormation leaves deleted ones out), all pages.
    pub(super) async fn describe_region(&self, region: &str) -> Result<Vec<Stack>, CfnError> {
        let op = "DescribeStacks";
        let mut stacks = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let client = self.client(region, op);
            let out = self
                .send(op, region, || {
                    client
                        .describe_stacks()
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await?;
            stacks.extend(out.stacks().iter().map(convert_stack));
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => return Ok(stacks),
            }
        }
    }
}
