//! References a template makes to names it does not declare: `Ref`, `Fn::GetAtt` and the
//! `${...}` of `Fn::Sub` naming no parameter, resource or pseudo parameter, and `DependsOn`
//! naming no resource. CloudFormation refuses
//! such a template when the change set is created ("Unresolved resource dependencies"); found
//! here, it is a config problem before any AWS call, with where in the template it is.
//!
//! Templates with a `Transform` (SAM, macros, language extensions) or registry modules declare
//! more than they show, so they are not checked.

use std::collections::BTreeSet;

use serde_json::Value;

/// The names CloudFormation itself provides.
const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Each reference of `doc` to a name it does not declare, with where it is.
pub fn unresolved(doc: &Value) -> Vec<String> {
    let Some(root) = doc.as_object() else {
        return Vec::new();
    };
    let resources: BTreeSet<&str> = names(root.get("Resources"));
    let modules = root
        .get("Resources")
        .and_then(Value::as_object)
        .is_some_and(|r| {
            r.values()
                .any(|d| d["Type"].as_str().is_some_and(|t| t.ends_with("::MODULE")))
        });
    if root.contains_key("Transform") || modules {
        return Vec::new();
    }
    let parameters: BTreeSet<&str> = names(root.get("Parameters"));
    let known = Known {
        resources,
        parameters,
    };
    let mut out = Vec::new();
    for (logical_id, decl) in root
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let depends_on: Vec<&str> = match &decl["DependsOn"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for name in depends_on
            .into_iter()
            .filter(|n| !known.resources.contains(n))
        {
            out.push(format!(
                "Resources.{logical_id}.DependsOn: `{name}` is no resource of the template"
            ));
        }
    }
    for section in ["Resources", "Outputs", "Conditions", "Rules"] {
        if let Some(value) = root.get(section) {
            walk(value, section, &known, &BTreeSet::new(), &mut out);
        }
    }
    out
}

struct Known<'a> {
    resources: BTreeSet<&'a str>,
    parameters: BTreeSet<&'a str>,
}

impl Known<'_> {
    /// What `Ref` and `${Name}` may name.
    fn referable(&self, name: &str) -> bool {
        self.resources.contains(name)
            || self.parameters.contains(name)
            || PSEUDO_PARAMETERS.contains(&name)
    }
}

fn names(section: Option<&Value>) -> BTreeSet<&str> {
    section
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Looks through `value` (at `path`) for references; `local` holds the variables of an
/// enclosing `Fn::Sub` map.
fn walk(
    value: &Value,
    path: &str,
    known: &Known<'_>,
    local: &BTreeSet<&str>,
    out: &mut Vec<String>,
) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), known, local, out);
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match key.as_str() {
                "Ref" => {
                    if let Some(name) = arg.as_str() {
                        if !known.referable(name) {
                            out.push(format!(
                                "{path}: `Ref` to `{name}`, which is no parameter, resource or pseudo parameter of the template"
                            ));
                        }
                    }
                }
                "Fn::GetAtt" => {
                    let resource = match arg {
                        Value::String(s) => s.split('.').next(),
                        Value::Array(items) => items.first().and_then(Value::as_str),
                        _ => None,
                    };
                    if let Some(name) = resource {
                        if !known.resources.contains(name) {
                            out.push(format!(
                                "{path}: `Fn::GetAtt` of `{name}`, which is no resource of the template"
                            ));
                        }
                    }
                    walk(arg, &format!("{path}.Fn::GetAtt"), known, local, out);
                }
                "Fn::Sub" => {
                    let (text, vars) = match arg {
                        Value::String(s) => (Some(s.as_str()), None),
                        Value::Array(items) => (
                            items.first().and_then(Value::as_str),
                            items.get(1).and_then(Value::as_object),
                        ),
                        _ => (None, None),
                    };
                    let mut inner = local.clone();
                    if let Some(vars) = vars {
                        inner.extend(vars.keys().map(String::as_str));
                        for (name, v) in vars {
                            walk(v, &format!("{path}.Fn::Sub.{name}"), known, local, out);
                        }
                    }
                    for name in text.map(sub_variables).unwrap_or_default() {
                        let target = name.split('.').next().unwrap_or(name);
                        let ok = inner.contains(name)
                            || inner.contains(target)
                            || if name.contains('.') && !name.starts_with("AWS::") {
                                known.resources.contains(target)
                            } else {
                                known.referable(name)
                            };
                        if !ok {
                            out.push(format!(
                                "{path}: `Fn::Sub` uses `${{{name}}}`, which is no parameter, resource or pseudo parameter of the template"
                            ));
                        }
                    }
                }
                _ => walk(arg, &format!("{path}.{key}"), known, local, out),
            }
        }
        Value::Object(map) => {
            for (key, v) in map {
                walk(v, &format!("{path}.{key}"), known, local, out);
            }
        }
        _ => {}
    }
}

/// The variables of an `Fn::Sub` string: `${Name}` and `${Name.Attribute}`; `${!Literal}` is text.
fn sub_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.is_empty() {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Vec<String> {
        unresolved(&crate::yaml::template_to_json(yaml).unwrap())
    }

    #[test]
    fn references_to_undeclared_names_are_found_with_where_they_are() {
        let found = check(
            "Parameters:\n  Env: {Type: String}\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    DependsOn: [Queue]\n    Properties:\n      TopicName: !Sub '${Env}-${Envv}-${AWS::Region}-${!Literal}'\n      Tags:\n        - {Key: q, Value: !GetAtt Queue.Arn}\n        - {Key: r, Value: !Ref Nope}\n        - {Key: s, Value: !Sub ['${Name}-${Topic.TopicName}', {Name: !Ref Env}]}\nOutputs:\n  Arn: {Value: !GetAtt Topc.TopicArn}\n",
        );
        assert_eq!(
            found,
            [
                "Resources.Topic.DependsOn: `Queue` is no resource of the template",
                "Resources.Topic.Properties.Tags[0].Value: `Fn::GetAtt` of `Queue`, which is no resource of the template",
                "Resources.Topic.Properties.Tags[1].Value: `Ref` to `Nope`, which is no parameter, resource or pseudo parameter of the template",
                "Resources.Topic.Properties.TopicName: `Fn::Sub` uses `${Envv}`, which is no parameter, resource or pseudo parameter of the template",
                "Outputs.Arn.Value: `Fn::GetAtt` of `Topc`, which is no resource of the template",
            ]
        );
    }

    #[test]
    fn real_templates_and_transformed_ones_have_nothing_unresolved() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut read = 0;
        for folder in ["real-templates", "templates"] {
            for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let Ok(doc) = crate::yaml::template_to_json(&text) else {
                    continue;
                };
                assert_eq!(unresolved(&doc), Vec::<String>::new(), "{}", path.display());
                read += 1;
            }
        }
        assert!(read >= 20, "{read} templates read");
        // A transform declares what the template does not show.
        assert!(check("Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Role: !GetAtt FRole.Arn}\n").is_empty());
    }
}
