//! The guard against destructive changes: a change is destructive when it removes or replaces a
//! resource whose type holds state (databases, tables, buckets, file systems, streams, queues,
//! keys, log groups) and nothing keeps the old resource: for a removal, a `DeletionPolicy` of
//! `Retain`/`Snapshot` in the deployed template; for a replacement, an `UpdateReplacePolicy` of
//! `Retain`/`Snapshot` (the policy CloudFormation applies to the replaced resource).

use crate::model::{Action, Replacement, ResourceChange};
use crate::template::{Template, TemplateResource};

/// The default stateful resource types (globs). The config extends or narrows this list.
pub const DEFAULT_STATEFUL_TYPES: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket",
    "AWS::EFS::FileSystem",
    "AWS::FSx::FileSystem",
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::Neptune::DBCluster",
    "AWS::DocDB::DBCluster",
    "AWS::Redshift::Cluster",
    "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain",
    "AWS::EC2::Volume",
    "AWS::SecretsManager::Secret",
    "AWS::Backup::BackupVault",
    "AWS::Cognito::UserPool",
    "AWS::MSK::Cluster",
    "AWS::ECR::Repository",
];

/// Which resource types hold state, as globs over type names.
#[derive(Debug, Clone)]
pub struct StatefulTypes {
    patterns: Vec<glob::Pattern>,
    removed: Vec<glob::Pattern>,
}

impl StatefulTypes {
    /// The default list, plus `add`, minus `remove` (both globs, e.g. `AWS::RDS::*`).
    pub fn new(add: &[String], remove: &[String]) -> Result<StatefulTypes, String> {
        let compile = |s: &str| {
            glob::Pattern::new(s).map_err(|e| format!("`{s}` is not a valid type pattern: {e}"))
        };
        let mut patterns = Vec::new();
        for p in DEFAULT_STATEFUL_TYPES
            .iter()
            .copied()
            .chain(add.iter().map(String::as_str))
        {
            patterns.push(compile(p)?);
        }
        let removed = remove
            .iter()
            .map(|p| compile(p))
            .collect::<Result<_, _>>()?;
        Ok(StatefulTypes { patterns, removed })
    }

    pub fn contains(&self, resource_type: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(resource_type))
            && !self.removed.iter().any(|p| p.matches(resource_type))
    }
}

impl Default for StatefulTypes {
    fn default() -> Self {
        StatefulTypes::new(&[], &[]).expect("the default patterns are valid")
    }
}

fn resource<'t>(template: Option<&'t Template>, logical_id: &str) -> Option<&'t TemplateResource> {
    template.and_then(|t| t.resources.iter().find(|r| r.logical_id == logical_id))
}

fn keeps(policy: Option<&str>) -> bool {
    matches!(
        policy,
        Some("Retain") | Some("RetainExceptOnCreate") | Some("Snapshot")
    )
}

/// Marks each destructive change with why it is destructive. `deployed` is the stack's current
/// template (for the DeletionPolicy of removed resources), `new` the template being applied.
pub fn mark(
    changes: &mut [ResourceChange],
    stateful: &StatefulTypes,
    new: &Template,
    deployed: Option<&Template>,
) {
    for change in changes {
        if !stateful.contains(&change.resource_type) {
            continue;
        }
        change.destructive = match (&change.action, &change.replacement) {
            (Action::Remove, _) => {
                let deletion = resource(deployed, &change.logical_id)
                    .and_then(|r| r.deletion_policy.as_deref());
                (!keeps(deletion)).then(|| {
                    format!(
                        "removes stateful {} {} (no DeletionPolicy Retain or Snapshot)",
                        change.resource_type, change.logical_id
                    )
                })
            }
            (Action::Modify, Some(Replacement::True | Replacement::Conditional)) => {
                let replace = resource(Some(new), &change.logical_id)
                    .and_then(|r| r.update_replace_policy.as_deref());
                let may = if change.replacement == Some(Replacement::True) {
                    "replaces"
                } else {
                    "may replace"
                };
                (!keeps(replace)).then(|| {
                    format!(
                        "{may} stateful {} {} (no UpdateReplacePolicy Retain or Snapshot)",
                        change.resource_type, change.logical_id
                    )
                })
            }
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        action: Action,
        id: &str,
        rtype: &str,
        replacement: Option<Replacement>,
    ) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: id.into(),
            physical_id: None,
            resource_type: rtype.into(),
            replacement,
            scope: vec![],
            details: vec![],
            destructive: None,
            policy_action: None,
            drift: None,
        }
    }

    fn template(text: &str) -> Template {
        Template::parse(text.to_string()).unwrap()
    }

    #[test]
    fn replacing_or_removing_stateful_resources_is_destructive_unless_a_policy_keeps_them() {
        let new = template("Resources:\n  Table: {Type: AWS::DynamoDB::Table}\n  Kept: {Type: AWS::DynamoDB::Table, UpdateReplacePolicy: Retain}\n  Topic: {Type: AWS::SNS::Topic}\n");
        let deployed = template("Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n  Logs: {Type: AWS::Logs::LogGroup, DeletionPolicy: Snapshot}\n");
        let mut changes = vec![
            change(
                Action::Modify,
                "Table",
                "AWS::DynamoDB::Table",
                Some(Replacement::True),
            ),
            change(
                Action::Modify,
                "Kept",
                "AWS::DynamoDB::Table",
                Some(Replacement::True),
            ),
            change(
                Action::Modify,
                "Topic",
                "AWS::SNS::Topic",
                Some(Replacement::True),
            ),
            change(Action::Remove, "Bucket", "AWS::S3::Bucket", None),
            change(Action::Remove, "Logs", "AWS::Logs::LogGroup", None),
            change(
                Action::Modify,
                "Table",
                "AWS::DynamoDB::Table",
                Some(Replacement::False),
            ),
            change(Action::Add, "Table", "AWS::DynamoDB::Table", None),
        ];
        mark(
            &mut changes,
            &StatefulTypes::default(),
            &new,
            Some(&deployed),
        );
        let marked: Vec<&str> = changes
            .iter()
            .filter(|c| c.destructive.is_some())
            .map(|c| c.logical_id.as_str())
            .collect();
        assert_eq!(marked, ["Table", "Bucket"]);
        assert_eq!(
            changes[0].destructive.as_deref(),
            Some("replaces stateful AWS::DynamoDB::Table Table (no UpdateReplacePolicy Retain or Snapshot)")
        );
    }

    #[test]
    fn the_config_extends_and_narrows_the_list_with_globs() {
        let types =
            StatefulTypes::new(&["Custom::*Database".into()], &["AWS::SQS::*".into()]).unwrap();
        assert!(types.contains("Custom::OrdersDatabase"));
        assert!(!types.contains("AWS::SQS::Queue"));
        assert!(types.contains("AWS::RDS::DBCluster"));
        assert!(StatefulTypes::new(&["[".into()], &[]).is_err());
    }

    #[test]
    fn a_conditional_replacement_counts() {
        let new = template("Resources:\n  Q: {Type: AWS::SQS::Queue}\n");
        let mut changes = vec![change(
            Action::Modify,
            "Q",
            "AWS::SQS::Queue",
            Some(Replacement::Conditional),
        )];
        mark(&mut changes, &StatefulTypes::default(), &new, None);
        assert!(changes[0]
            .destructive
            .as_deref()
            .unwrap()
            .starts_with("may replace"));
    }
}
