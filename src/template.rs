//! What cfdeploy needs to know about a template before any AWS call: its parameters (to check
//! the config against them and to know which are NoEcho) and its resources.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// CloudFormation rejects a `TemplateBody` larger than this; bigger templates go through S3.
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParameter {
    pub name: String,
    /// `String`, `Number`, `CommaDelimitedList`, `AWS::EC2::VPC::Id`, ...
    pub param_type: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub no_echo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateResource {
    pub logical_id: String,
    pub resource_type: String,
    pub deletion_policy: Option<String>,
    pub update_replace_policy: Option<String>,
}

/// A template read from disk: its text, exactly as it will be sent, and the facts parsed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub body: String,
    pub parameters: Vec<TemplateParameter>,
    pub resources: Vec<TemplateResource>,
    /// The names of its `Outputs`.
    pub outputs: Vec<String>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template> {
        let body = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read template {}", path.display()))?;
        let body = match body.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => body,
        };
        let template = Template::parse(body)
            .with_context(|| format!("template {} is not valid", path.display()))?;
        // CloudFormation would refuse it when the change set is created; said now, with where.
        let doc = crate::yaml::template_to_json(&template.body)?;
        let unresolved = dangling::unresolved(&doc);
        if !unresolved.is_empty() {
            anyhow::bail!(
                "template {} is not valid: {}",
                path.display(),
                unresolved.join("; ")
            );
        }
        Ok(template)
    }

    pub fn parse(body: String) -> Result<Template> {
        let doc = crate::yaml::template_to_json(&body)?;
        let Value::Object(root) = &doc else {
            anyhow::bail!("a template is a mapping with a `Resources` section");
        };
        let parameters = match root.get("Parameters") {
            Some(Value::Object(params)) => params
                .iter()
                .map(|(name, decl)| parse_parameter(name, decl))
                .collect(),
            _ => Vec::new(),
        };
        let resources = match root.get("Resources") {
            Some(Value::Object(resources)) => resources
                .iter()
                .map(|(logical_id, decl)| TemplateResource {
                    logical_id: logical_id.clone(),
                    resource_type: decl["Type"].as_str().unwrap_or_default().to_string(),
                    deletion_policy: decl["DeletionPolicy"].as_str().map(str::to_string),
                    update_replace_policy: decl["UpdateReplacePolicy"].as_str().map(str::to_string),
                })
                .collect(),
            _ => anyhow::bail!("it has no `Resources` section"),
        };
        let outputs = match root.get("Outputs") {
            Some(Value::Object(outputs)) => outputs.keys().cloned().collect(),
            _ => Vec::new(),
        };
        Ok(Template {
            body,
            parameters,
            resources,
            outputs,
        })
    }

    /// The names of its NoEcho parameters.
    pub fn no_echo_names(&self) -> impl Iterator<Item = String> + '_ {
        self.parameters
            .iter()
            .filter(|p| p.no_echo)
            .map(|p| p.name.clone())
    }

    pub fn parameter(&self, name: &str) -> Option<&TemplateParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

fn parse_parameter(name: &str, decl: &Value) -> TemplateParameter {
    TemplateParameter {
        name: name.to_string(),
        param_type: decl["Type"].as_str().unwrap_or("String").to_string(),
        default: decl.get("Default").and_then(scalar_string),
        allowed_values: decl["AllowedValues"]
            .as_array()
            .map(|values| values.iter().filter_map(scalar_string).collect())
            .unwrap_or_default(),
        no_echo: match &decl["NoEcho"] {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        },
    }
}

/// A template scalar as CloudFormation would see it: numbers and booleans as their text, lists
/// comma-joined.
fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(scalar_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

mod dangling;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parameters_and_resources() {
        let t = Template::parse(
            "Parameters:\n  Size:\n    Type: Number\n    Default: 512\n    AllowedValues: [256, 512]\n  Secret:\n    Type: String\n    NoEcho: true\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n"
                .to_string(),
        )
        .unwrap();
        let size = t.parameter("Size").unwrap();
        assert_eq!(size.default.as_deref(), Some("512"));
        assert_eq!(size.allowed_values, vec!["256", "512"]);
        assert!(t.parameter("Secret").unwrap().no_echo);
        assert_eq!(t.resources[0].deletion_policy.as_deref(), Some("Retain"));
    }

    #[test]
    fn a_template_without_resources_is_rejected() {
        let err = Template::parse("Parameters: {}\n".to_string()).unwrap_err();
        assert!(err.to_string().contains("Resources"));
    }
}
