//! The config file as users write it, before merging and validation. Unknown keys are errors.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A cfdeploy stack config file (or a folder's `_defaults.yaml`, which holds only `defaults`).
#[derive(Debug, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cfdeploy stack config")]
pub struct RawFile {
    /// Settings merged into every stack of this file (`parameters` and `tags` key by key, the
    /// stack's own winning; every other key replaced whole).
    #[serde(default)]
    pub defaults: RawStack,
    /// The stacks, by name, in the order they are planned and shown. Names are unique across
    /// every file of the config.
    #[serde(default, deserialize_with = "ordered_map")]
    #[schemars(with = "BTreeMap<String, RawStack>")]
    pub stacks: Vec<(String, RawStack)>,
}

/// One stack's settings (or the defaults for several).
#[derive(Debug, Deserialize, Default, Clone, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStack {
    /// Path of the CloudFormation template (JSON or YAML), relative to this file (to the
    /// `_defaults.yaml` that sets it, for folder defaults).
    pub template: Option<String>,
    /// The stack's region; else --region, else the AWS default region.
    pub region: Option<String>,
    /// Template parameters: strings, numbers, booleans, or lists (sent comma-delimited).
    /// `${env:NAME}` is read from the environment.
    #[serde(default, deserialize_with = "unique_keys")]
    pub parameters: Option<BTreeMap<String, ConfigValue>>,
    /// Stack tags.
    #[serde(default, deserialize_with = "unique_keys")]
    pub tags: Option<BTreeMap<String, ConfigValue>>,
    /// e.g. CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND.
    pub capabilities: Option<Vec<String>>,
    /// Turn termination protection on after `apply` creates the stack.
    pub termination_protection: Option<bool>,
    /// The service role CloudFormation uses for the stack.
    pub role_arn: Option<String>,
    /// SNS topics for stack events.
    pub notification_arns: Option<Vec<String>>,
    /// S3 bucket (in the stack's region) for templates over 51,200 bytes and packaged local
    /// artifacts.
    pub template_bucket: Option<String>,
    /// Let `apply` (and `delete`) execute this stack's destructive changes.
    pub allow_destructive: Option<bool>,
    /// Resource type globs added to or removed from the guard's stateful list.
    pub stateful_types: Option<RawStatefulTypes>,
    /// Patterns (regular expressions) whose matches are masked in every output.
    pub mask: Option<Vec<String>>,
    /// Stacks of the config this one is deployed after (and not at all when one of them fails).
    pub depends_on: Option<Vec<String>>,
    /// The fleet these stacks belong to: each is tagged `cfdeploy:fleet` with it, and `plan`
    /// lists the fleet's deployed stacks that are no longer in the config (`--prune` deletes
    /// them). Declare a fleet once, in the `_defaults.yaml` or the file above all its stacks.
    pub fleet: Option<String>,
    /// Regions where the fleet's stacks that left the config are also looked for, besides those
    /// its stacks use: list a region here while retiring it (its last stack removed from the
    /// config), until `plan --prune` and `apply` have deleted what the fleet left there.
    pub fleet_regions: Option<Vec<String>>,
    /// The file that declares `fleet`.
    #[serde(skip)]
    #[schemars(skip)]
    pub fleet_origin: Option<std::path::PathBuf>,
    /// The folder `template` is relative to, when it came from a folder's `_defaults.yaml`
    /// (otherwise the folder of the file that declares the stack).
    #[serde(skip)]
    #[schemars(skip)]
    pub template_base: Option<std::path::PathBuf>,
}

/// Changes to the guard's list of stateful resource types (globs).
#[derive(Debug, Deserialize, Default, Clone, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStatefulTypes {
    /// Type globs counted as stateful, e.g. `AWS::RDS::*`, `Custom::*Database`.
    #[serde(default)]
    pub add: Vec<String>,
    /// Type globs not counted as stateful.
    #[serde(default)]
    pub remove: Vec<String>,
}

impl RawFile {
    /// Records `file` as where the `fleet` of its defaults and stacks is declared.
    pub fn with_fleet_origin(mut self, file: &std::path::Path) -> RawFile {
        let stacks = self.stacks.iter_mut().map(|(_, s)| s);
        for stack in std::iter::once(&mut self.defaults).chain(stacks) {
            if stack.fleet.is_some() {
                stack.fleet_origin = Some(file.to_path_buf());
            }
        }
        self
    }
}

impl RawStack {
    /// `self` over `defaults`: maps merge key by key, everything else is replaced whole.
    pub fn over(self, defaults: &RawStack) -> RawStack {
        RawStack {
            template_base: if self.template.is_some() {
                self.template_base
            } else {
                defaults.template_base.clone()
            },
            template: self.template.or_else(|| defaults.template.clone()),
            region: self.region.or_else(|| defaults.region.clone()),
            parameters: merge_maps(&defaults.parameters, self.parameters),
            tags: merge_maps(&defaults.tags, self.tags),
            capabilities: self.capabilities.or_else(|| defaults.capabilities.clone()),
            termination_protection: self
                .termination_protection
                .or(defaults.termination_protection),
            role_arn: self.role_arn.or_else(|| defaults.role_arn.clone()),
            notification_arns: self
                .notification_arns
                .or_else(|| defaults.notification_arns.clone()),
            template_bucket: self
                .template_bucket
                .or_else(|| defaults.template_bucket.clone()),
            allow_destructive: self.allow_destructive.or(defaults.allow_destructive),
            stateful_types: self
                .stateful_types
                .or_else(|| defaults.stateful_types.clone()),
            mask: self.mask.or_else(|| defaults.mask.clone()),
            depends_on: self.depends_on.or_else(|| defaults.depends_on.clone()),
            fleet_origin: if self.fleet.is_some() {
                self.fleet_origin
            } else {
                defaults.fleet_origin.clone()
            },
            fleet: self.fleet.or_else(|| defaults.fleet.clone()),
            fleet_regions: self
                .fleet_regions
                .or_else(|| defaults.fleet_regions.clone()),
        }
    }
}

fn merge_maps(
    defaults: &Option<BTreeMap<String, ConfigValue>>,
    own: Option<BTreeMap<String, ConfigValue>>,
) -> Option<BTreeMap<String, ConfigValue>> {
    match (defaults, own) {
        (None, own) => own,
        (Some(d), None) => Some(d.clone()),
        (Some(d), Some(own)) => {
            let mut merged = d.clone();
            merged.extend(own);
            Some(merged)
        }
    }
}

/// A parameter or tag value: a string, number or boolean, or a list of them (sent comma-joined).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Text(String),
    List(Vec<String>),
}

impl schemars::JsonSchema for ConfigValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConfigValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A string, number or boolean, or a list of them (sent comma-delimited).",
            "anyOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "array", "items": {"type": ["string", "number", "boolean"]}}
            ]
        })
    }
}

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor { in_list: false })
    }
}

struct ValueVisitor {
    in_list: bool,
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = ConfigValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.in_list {
            f.write_str("a string, number or boolean")
        } else {
            f.write_str("a string, number, boolean, or a list of them")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigValue, E> {
        Ok(ConfigValue::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<ConfigValue, E> {
        Ok(ConfigValue::Text(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ConfigValue, E> {
        Ok(ConfigValue::Text(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigValue, E> {
        Ok(ConfigValue::Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigValue, E> {
        Ok(ConfigValue::Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ConfigValue, E> {
        // `3.10` arrives as 3.1 and `1e3` as 1000: the text as written is lost, and sending
        // something else than what was written is never right. A string is sent as written.
        Err(E::custom(format!(
            "the number {v} may not be what the file says (YAML reads 3.10 as 3.1 and 1e3 as 1000); write it in quotes to send it exactly as written"
        )))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ConfigValue, A::Error> {
        if self.in_list {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ListItem)? {
            items.push(item);
        }
        Ok(ConfigValue::List(items))
    }
}

struct ListItem;

impl<'de> de::DeserializeSeed<'de> for ListItem {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        match d.deserialize_any(ValueVisitor { in_list: true })? {
            ConfigValue::Text(s) => Ok(s),
            ConfigValue::List(_) => Err(de::Error::custom("nested lists are not allowed")),
        }
    }
}

fn ordered_map<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, RawStack)>, D::Error> {
    struct OrderedVisitor;
    impl<'de> Visitor<'de> for OrderedVisitor {
        type Value = Vec<(String, RawStack)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping of stack names to stack settings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<(String, RawStack)> = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let stack: Option<RawStack> = map.next_value()?;
                if out.iter().any(|(n, _)| *n == name) {
                    return Err(de::Error::custom(format!(
                        "stack `{name}` is declared twice in this file; stack names are unique"
                    )));
                }
                out.push((name, stack.unwrap_or_default()));
            }
            Ok(out)
        }
    }
    d.deserialize_any(OrderedVisitor)
}

/// A mapping whose every key appears once: YAML forbids duplicate keys, and taking the last one
/// silently sends a value nobody reviewed.
fn unique_keys<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, ConfigValue>>, D::Error> {
    struct UniqueVisitor;
    impl<'de> Visitor<'de> for UniqueVisitor {
        type Value = Option<BTreeMap<String, ConfigValue>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping of names to values")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value: ConfigValue = map.next_value()?;
                if out.insert(key.clone(), value).is_some() {
                    return Err(de::Error::custom(format!(
                        "`{key}` appears more than once in the mapping that starts here (YAML keys are unique; keep one)"
                    )));
                }
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(UniqueVisitor)
}
