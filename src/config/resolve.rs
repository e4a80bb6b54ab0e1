//! One stack's settings resolved: `${env:NAME}` interpolated, the template loaded (once per
//! path), and every value checked against it. Every problem is collected.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::raw::{ConfigValue, RawStack};
use super::{LoadContext, StackSpec};
use crate::template::{Template, MAX_TEMPLATE_BODY_BYTES};

pub(super) fn resolve(
    file: &Path,
    name: &str,
    raw: RawStack,
    ctx: &LoadContext<'_>,
    templates: &mut HashMap<PathBuf, Result<Arc<Template>, String>>,
) -> Result<StackSpec, Vec<String>> {
    let at = format!("{}: stack `{name}`", file.display());
    let mut problems = Vec::new();

    if let Some(msg) = stack_name_problem(name) {
        problems.push(format!("{at}: {msg}"));
    }

    let mut interpolate = |key: &str, value: &str| -> String {
        match interpolate_env(value, ctx.env) {
            Ok(v) => v,
            Err(_)
                if ctx.values_not_needed
                    && (key.starts_with("parameters.") || key.starts_with("tags.")) =>
            {
                String::new()
            }
            Err(var) => {
                problems.push(format!(
                    "{at}: `{key}` reads the environment variable {var}, which is not set; export it before running cfdeploy"
                ));
                String::new()
            }
        }
    };

    // A list is sent comma-delimited, as CloudFormation takes list parameters.
    let mut values = |section: &str, map: Option<BTreeMap<String, ConfigValue>>| {
        map.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    ConfigValue::Text(s) => s,
                    ConfigValue::List(items) => items.join(","),
                };
                let value = interpolate(&format!("{section}.{k}"), &text);
                (k, value)
            })
            .collect::<BTreeMap<String, String>>()
    };
    let parameters = values("parameters", raw.parameters);
    let mut tags = values("tags", raw.tags);
    // Other stacks' outputs read by values, resolved when the plan is made.
    let mut references = Vec::new();
    let mut malformed = Vec::new();
    for (section, map) in [("parameters", &parameters), ("tags", &tags)] {
        for (key, value) in map {
            match crate::refs::find(value) {
                Ok(found) => {
                    references.extend(found.into_iter().map(|r| (format!("{section}.{key}"), r)))
                }
                Err(why) => malformed.push(format!("{at}: `{section}.{key}`: {why}")),
            }
        }
    }
    let mut depends_on = raw.depends_on.clone().unwrap_or_default();
    for (_, r) in references.iter().filter(|(_, r)| r.region.is_none()) {
        if !depends_on.contains(&r.stack) {
            depends_on.push(r.stack.clone());
        }
    }
    let role_arn = raw.role_arn.map(|r| interpolate("role_arn", &r));
    let template_bucket = raw
        .template_bucket
        .map(|b| interpolate("template_bucket", &b));
    let notification_arns: Vec<String> = raw
        .notification_arns
        .unwrap_or_default()
        .iter()
        .map(|a| interpolate("notification_arns", a))
        .collect();

    let fleet_regions: Vec<String> = raw
        .fleet_regions
        .iter()
        .flatten()
        .map(|r| interpolate("fleet_regions", r))
        .collect();
    let region = raw
        .region
        .map(|r| interpolate("region", &r))
        .or_else(|| ctx.default_region.clone());
    problems.append(&mut malformed);
    if region.is_none() {
        problems.push(format!(
            "{at}: no region; set `region` for the stack or in `defaults`, or pass --region"
        ));
    }

    let template = match &raw.template {
        None => {
            problems.push(format!(
                "{at}: no `template`; set it for the stack or in `defaults` (a path relative to {})",
                file.display()
            ));
            None
        }
        Some(rel) => {
            let base = raw
                .template_base
                .clone()
                .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
            let path = base.join(rel);
            let loaded = templates
                .entry(path.clone())
                .or_insert_with(|| {
                    match std::fs::metadata(&path) {
                        Err(_) => {
                            return Err(format!(
                                "`template: {rel}` not found (looked for {})",
                                path.display()
                            ))
                        }
                        Ok(meta) if meta.is_dir() => {
                            return Err(format!(
                                "`template: {rel}` is a folder ({}); name the template file in it",
                                path.display()
                            ))
                        }
                        Ok(meta) if !meta.is_file() => {
                            return Err(format!(
                                "`template: {rel}` is not a regular file ({}: a device, socket or pipe); name a template file",
                                path.display()
                            ))
                        }
                        Ok(_) => {}
                    }
                    Template::load(&path)
                        .map(Arc::new)
                        .map_err(|e| format!("{e:#}"))
                })
                .clone();
            match loaded {
                Ok(t) => Some((path, t)),
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    None
                }
            }
        }
    };

    if let Some((path, template)) = &template {
        if !ctx.values_not_needed {
            check_parameters(&at, path, template, &parameters, &mut problems);
        }
        if template.body.len() > MAX_TEMPLATE_BODY_BYTES && template_bucket.is_none() {
            problems.push(format!(
                "{at}: template {} is {} bytes, over CloudFormation's {MAX_TEMPLATE_BODY_BYTES}-byte limit for an inline template; set `template_bucket` to upload it to S3",
                path.display(),
                template.body.len()
            ));
        }
    }

    let stateful = raw.stateful_types.clone().unwrap_or_default();
    let stateful_types = match crate::guard::StatefulTypes::new(&stateful.add, &stateful.remove) {
        Ok(types) => Some(types),
        Err(e) => {
            problems.push(format!("{at}: stateful_types: {e}"));
            None
        }
    };

    let mut mask = Vec::new();
    for pattern in raw.mask.clone().unwrap_or_default() {
        match regex_lite::Regex::new(&pattern) {
            Ok(re) if re.is_match("") => problems.push(format!(
                "{at}: mask pattern `{pattern}` matches the empty string, which would mask everything"
            )),
            Ok(re) => mask.push(re),
            Err(e) => problems.push(format!("{at}: mask pattern `{pattern}` is not a valid regular expression: {e}")),
        }
    }

    if raw.fleet.is_none() && raw.fleet_regions.is_some() {
        problems.push(format!(
            "{at}: `fleet_regions` lists where a fleet's stacks are looked for, but no `fleet` is set; set `fleet` beside it"
        ));
    }
    let fleet = raw.fleet.as_ref().map(|name| {
        if let Some(why) = fleet_name_problem(name) {
            problems.push(format!("{at}: fleet `{name}` {why}"));
        }
        match tags.get(super::FLEET_TAG) {
            Some(value) if value != name => problems.push(format!(
                "{at}: tag `{}` is set by `fleet:` (`{name}`); remove it from `tags`",
                super::FLEET_TAG
            )),
            _ => {}
        }
        tags.insert(super::FLEET_TAG.to_string(), name.clone());
        super::Fleet {
            name: name.clone(),
            origin: raw
                .fleet_origin
                .clone()
                .unwrap_or_else(|| file.to_path_buf()),
            covered: true,
            regions: fleet_regions,
        }
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let (template_path, template) = template.expect("checked above");
    Ok(StackSpec {
        name: name.to_string(),
        source: file.to_path_buf(),
        template_path,
        template,
        region: region.expect("checked above"),
        parameters,
        tags,
        capabilities: raw.capabilities.unwrap_or_default(),
        termination_protection: raw.termination_protection.unwrap_or(false),
        role_arn,
        notification_arns,
        template_bucket,
        allow_destructive: raw.allow_destructive.unwrap_or(false),
        stateful_types: stateful_types.expect("checked above"),
        mask,
        depends_on,
        references,
        fleet,
        upstream_regions: BTreeMap::new(),
    })
}

/// Why a fleet name cannot be a tag value that is safe to match on, if it cannot.
fn fleet_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 128 {
        Some("must be 1 to 128 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("may use only letters, digits, `-`, `_` and `.`")
    } else {
        None
    }
}

fn check_parameters(
    at: &str,
    path: &Path,
    template: &Template,
    values: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    let declared: BTreeSet<&str> = template
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for key in values.keys() {
        if !declared.contains(key.as_str()) {
            let known: Vec<&str> = declared.iter().copied().collect();
            let hint = match super::keys::nearest(key, &known) {
                Some(k) => format!("did you mean `{k}`? "),
                None => String::new(),
            };
            problems.push(format!(
                "{at}: parameter `{key}` is not declared in {}; {hint}declared: {}",
                path.display(),
                known.join(", ")
            ));
        }
    }
    for p in &template.parameters {
        let value = values.get(&p.name);
        match value {
            None if p.default.is_none() => problems.push(format!(
                "{at}: parameter `{}` has no Default in {} and no value; set `parameters.{}`",
                p.name,
                path.display(),
                p.name
            )),
            // Another stack's output is known when the plan is made.
            Some(v) if crate::refs::has_any(v) => {}
            Some(v) => {
                // A NoEcho value is never echoed, not even in an error.
                let shown = if p.no_echo {
                    "****".to_string()
                } else {
                    format!("`{v}`")
                };
                if !p.allowed_values.is_empty()
                    && !p.param_type.contains("List")
                    && !p.allowed_values.contains(v)
                {
                    problems.push(format!(
                        "{at}: parameter `{}` is {shown}, not one of its AllowedValues: {}",
                        p.name,
                        p.allowed_values.join(", ")
                    ));
                }
                if p.param_type == "Number" && v.trim().parse::<f64>().is_err() {
                    problems.push(format!(
                        "{at}: parameter `{}` is {shown}, but its Type is Number",
                        p.name
                    ));
                }
            }
            None => {}
        }
    }
}

/// CloudFormation's rule: letters, digits and hyphens, starting with a letter, at most 128.
fn stack_name_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (!ok).then(|| {
        "is not a valid stack name (letters, digits and hyphens, starting with a letter, at most 128 characters)"
            .to_string()
    })
}

/// Replaces every `${env:NAME}` in `value`; returns the name of the first unset variable.
pub(super) fn interpolate_env(
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${env:") {
        let after = &rest[start + 6..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        out.push_str(&rest[..start]);
        out.push_str(&env(var).ok_or_else(|| var.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
