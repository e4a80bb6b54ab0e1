//! The one module that parses YAML. `serde_yaml` is deprecated; keeping every use here means a
//! swap to a maintained fork touches one file.

use serde::de::DeserializeOwned;

/// A YAML parse or shape error, with the line and column when the parser knows them.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(String);

/// Deserializes a YAML document into `T` (used for stack config files).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(|e| YamlError(e.to_string()))
}

/// The keys of a YAML document, nested, in document order (for checking a config's keys before
/// its shape); `None` when it does not parse (the typed parse then says why).
pub fn key_tree(text: &str) -> Option<KeyTree> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    Some(keys_of(&value))
}

/// A mapping's keys, each with what is under it (empty for a scalar or a sequence).
#[derive(Debug, Default, PartialEq)]
pub struct KeyTree(pub Vec<(String, KeyTree)>);

fn keys_of(value: &serde_yaml::Value) -> KeyTree {
    match value {
        serde_yaml::Value::Mapping(map) => KeyTree(
            map.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), keys_of(v))))
                .collect(),
        ),
        serde_yaml::Value::Tagged(tagged) => keys_of(&tagged.value),
        _ => KeyTree::default(),
    }
}

/// Parses a CloudFormation template, JSON or YAML, into a JSON tree. YAML short-form intrinsic
/// functions become their long form (`!Ref X` → `{"Ref": "X"}`, `!Sub s` → `{"Fn::Sub": s}`), so
/// the rest of the code reads one shape.
pub fn template_to_json(text: &str) -> Result<serde_json::Value, YamlError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| YamlError(e.to_string()));
    }
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| YamlError(e.to_string()))?;
    Ok(to_json(value))
}

fn to_json(value: serde_yaml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64().map(J::from).unwrap_or(J::Null)
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(seq) => J::Array(seq.into_iter().map(to_json).collect()),
        Y::Mapping(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| (key_string(k), to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" || name == "Condition" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            };
            let mut inner = to_json(tagged.value);
            // `!GetAtt Res.Attr` is the short form of `Fn::GetAtt: [Res, Attr]`.
            if name == "GetAtt" {
                if let J::String(s) = &inner {
                    if let Some((res, attr)) = s.split_once('.') {
                        inner = J::Array(vec![J::from(res), J::from(attr)]);
                    }
                }
            }
            let mut obj = serde_json::Map::new();
            obj.insert(key, inner);
            J::Object(obj)
        }
    }
}

fn key_string(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_intrinsics_become_long_form() {
        let t = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n      Arn: !GetAtt Topic.Arn\n      Ref: !Ref Name\n";
        let j = template_to_json(t).unwrap();
        let props = &j["Resources"]["Q"]["Properties"];
        assert_eq!(props["QueueName"]["Fn::Sub"], "${AWS::StackName}-q");
        assert_eq!(
            props["Arn"]["Fn::GetAtt"],
            serde_json::json!(["Topic", "Arn"])
        );
        assert_eq!(props["Ref"]["Ref"], "Name");
    }

    #[test]
    fn json_templates_parse_as_json() {
        let j =
            template_to_json("{\"Resources\": {\"A\": {\"Type\": \"AWS::SNS::Topic\"}}}").unwrap();
        assert_eq!(j["Resources"]["A"]["Type"], "AWS::SNS::Topic");
    }

    #[test]
    fn errors_carry_a_location() {
        let err = template_to_json("Resources:\n  A: [unclosed\n").unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
    }
}
