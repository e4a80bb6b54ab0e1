//! What packaging would fail on, found before any AWS call (for `validate`).

use std::path::Path;

use serde_json::Value;

use super::{find, no_bucket, not_found, Kind, Local};

/// What packaging the template `doc` read from `template_path` would fail on, each with its file
/// and line, found without reading an artifact or uploading anything (for `validate`): local
/// paths that do not exist (nested templates read in turn) and local paths with no
/// `template_bucket` to store them in.
pub fn problems(doc: &Value, template_path: &Path, has_bucket: bool) -> Vec<String> {
    let mut out = Vec::new();
    problems_in(doc, template_path, has_bucket, "", &mut out);
    out
}

/// Each problem starts with the template it is in and, when the path is written there, its line.
fn problems_in(
    doc: &Value,
    template_path: &Path,
    has_bucket: bool,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let folder = template_path.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(template_path).unwrap_or_default();
    let at = |local: &Local| {
        let line = text
            .lines()
            .position(|l| l.contains(local.path.as_str()))
            .map(|i| format!(" line {}:", i + 1))
            .unwrap_or_default();
        format!("{}:{line}", template_path.display())
    };
    for local in find(doc) {
        let name = format!("{prefix}{}", local.resource);
        if !has_bucket {
            out.push(format!("{} {}", at(&local), no_bucket(&name, &local)));
            continue;
        }
        let path = folder.join(&local.path);
        if !path.exists() {
            out.push(format!(
                "{} {}",
                at(&local),
                not_found(&name, &local, &path)
            ));
            continue;
        }
        if local.kind == Kind::Template {
            let nested = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| crate::yaml::template_to_json(&text).map_err(|e| e.to_string()));
            match nested {
                Ok(nested) => problems_in(&nested, &path, has_bucket, &format!("{name}/"), out),
                Err(e) => out.push(format!(
                    "{} resource {name}: nested template `{}` is not valid: {e}",
                    at(&local),
                    local.path
                )),
            }
        }
    }
}
