//! Packaging local artifacts, as `aws cloudformation package` does: a template whose resources
//! point at local paths (`CodeUri: ./src`, `Code: ./lambda`, `TemplateURL: ./nested.yaml`, …) gets
//! each path zipped (folders and code) or taken as is (definitions, nested templates, packaged in
//! turn), stored in the stack's `template_bucket` under a key made of its content, and the
//! property rewritten to point there. Archives are deterministic (sorted entries, fixed times and
//! modes), so an unchanged folder gives an unchanged key and no change in the plan.
//!
//! `find` and `rewrite` are pure; `package` does the uploading through `CloudFormation`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::cfn::CloudFormation;
use crate::fingerprint::sha256_hex;

/// How a property's local path is packaged and what the property becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Zipped; the property becomes `{<bucket key>: …, <key key>: …}`.
    ZipObject(&'static str, &'static str),
    /// Zipped; the property becomes `s3://bucket/key`.
    ZipUri,
    /// Uploaded as is; the property becomes `{<bucket key>: …, <key key>: …}`.
    FileObject(&'static str, &'static str),
    /// Uploaded as is; the property becomes `s3://bucket/key`.
    FileUri,
    /// A nested template: packaged in turn, uploaded, the property becomes its https URL.
    Template,
}

/// The properties that may name a local path, by resource type.
const PACKAGEABLE: &[(&str, &str, Kind)] = &[
    (
        "AWS::Lambda::Function",
        "Code",
        Kind::ZipObject("S3Bucket", "S3Key"),
    ),
    (
        "AWS::Lambda::LayerVersion",
        "Content",
        Kind::ZipObject("S3Bucket", "S3Key"),
    ),
    ("AWS::Serverless::Function", "CodeUri", Kind::ZipUri),
    ("AWS::Serverless::LayerVersion", "ContentUri", Kind::ZipUri),
    ("AWS::Serverless::Api", "DefinitionUri", Kind::FileUri),
    ("AWS::Serverless::HttpApi", "DefinitionUri", Kind::FileUri),
    (
        "AWS::Serverless::StateMachine",
        "DefinitionUri",
        Kind::FileUri,
    ),
    (
        "AWS::StepFunctions::StateMachine",
        "DefinitionS3Location",
        Kind::FileObject("Bucket", "Key"),
    ),
    (
        "AWS::ApiGateway::RestApi",
        "BodyS3Location",
        Kind::FileObject("Bucket", "Key"),
    ),
    ("AWS::CloudFormation::Stack", "TemplateURL", Kind::Template),
    ("AWS::Serverless::Application", "Location", Kind::Template),
];

/// One local artifact of a template, and where it went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// The resource's logical id (`Nested/Inner` inside a nested template).
    pub resource: String,
    pub property: String,
    /// The path as written in the template.
    pub path: String,
    /// Where it is stored: `s3://bucket/key`.
    pub location: String,
    /// Whether the deployed template points somewhere else (or the stack is new).
    pub changed: bool,
}

/// Whether any resource of `doc` points a packageable property at a local path.
pub fn has_local_artifacts(doc: &Value) -> bool {
    !find(doc).is_empty()
}

/// A local path found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Local {
    resource: String,
    property: String,
    kind: Kind,
    path: String,
}

/// The properties of `doc` that name a local path (not `s3://`, `https://`, or a mapping).
fn find(doc: &Value) -> Vec<Local> {
    let mut found = Vec::new();
    let Some(resources) = doc.get("Resources").and_then(Value::as_object) else {
        return found;
    };
    for (logical_id, resource) in resources {
        let rtype = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        for (t, property, kind) in PACKAGEABLE {
            if *t != rtype {
                continue;
            }
            let Some(path) = resource
                .get("Properties")
                .and_then(|p| p.get(*property))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let remote = ["s3://", "https://", "http://"]
                .iter()
                .any(|p| path.starts_with(p));
            if !remote {
                found.push(Local {
                    resource: logical_id.clone(),
                    property: property.to_string(),
                    kind: *kind,
                    path: path.to_string(),
                });
            }
        }
    }
    found
}

/// Sets the property of `local` to point at `bucket`/`key` (or `url` for a nested template).
fn rewrite(doc: &mut Value, local: &Local, bucket: &str, key: &str, url: &str) {
    let value = match local.kind {
        Kind::ZipObject(b, k) | Kind::FileObject(b, k) => json!({ b: bucket, k: key }),
        Kind::ZipUri | Kind::FileUri => json!(format!("s3://{bucket}/{key}")),
        Kind::Template => json!(url),
    };
    if let Some(props) = doc
        .get_mut("Resources")
        .and_then(|r| r.get_mut(&local.resource))
        .and_then(|r| r.get_mut("Properties"))
        .and_then(Value::as_object_mut)
    {
        props.insert(local.property.clone(), value);
    }
}

/// A zip of `path` (a folder's files, or one file) that depends only on the names, contents and
/// executable bits of the files: entries sorted, times and modes fixed.
pub fn zip_deterministic(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if path.is_dir() {
        collect(path, path, &mut files)?;
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, path.to_path_buf()));
    }
    files.sort();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, file) in files {
        let mode = if is_executable(&file) { 0o755 } else { 0o644 };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(mode);
        writer
            .start_file(name, options)
            .map_err(std::io::Error::other)?;
        writer.write_all(&std::fs::read(&file)?)?;
    }
    Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// Why packaging failed, naming the resource and the path.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PackageError(pub String);

/// What packaging a template gave.
#[derive(Debug, Default)]
pub struct Packaged {
    /// The template to send (JSON), when it had local artifacts; `None`: send it as written.
    pub body: Option<String>,
    pub artifacts: Vec<Artifact>,
}

/// Packages the template `doc` read from `template_path`: every local artifact is stored in
/// `bucket` (`None`: packaging is needed but there is nowhere to put it, an error). `deployed` is
/// the deployed template (for which artifacts changed).
pub async fn package<C: CloudFormation>(
    cfn: &C,
    region: &str,
    bucket: Option<&str>,
    template_path: &Path,
    doc: &Value,
    deployed: Option<&Value>,
) -> Result<Packaged, PackageError> {
    let mut artifacts = Vec::new();
    let packaged = package_doc(
        cfn,
        region,
        bucket,
        template_path,
        doc,
        deployed,
        "",
        &mut artifacts,
    )
    .await?;
    Ok(Packaged {
        body: packaged.map(|d| serde_json::to_string_pretty(&d).unwrap_or_default()),
        artifacts,
    })
}

fn no_bucket(name: &str, local: &Local) -> String {
    format!(
        "resource {name} points {} at the local path `{}`; set `template_bucket` for the stack so cfdeploy can upload it",
        local.property, local.path
    )
}

fn not_found(name: &str, local: &Local, path: &Path) -> String {
    format!(
        "resource {name}: {} `{}` not found (looked for {})",
        local.property,
        local.path,
        path.display()
    )
}

/// Packages one template (and, through `Box::pin`, its nested ones); `None` when it has no local
/// artifacts. `prefix` names the nested stack the resources are in.
#[allow(clippy::too_many_arguments)]
fn package_doc<'a, C: CloudFormation>(
    cfn: &'a C,
    region: &'a str,
    bucket: Option<&'a str>,
    template_path: &'a Path,
    doc: &'a Value,
    deployed: Option<&'a Value>,
    prefix: &'a str,
    artifacts: &'a mut Vec<Artifact>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Option<Value>, PackageError>> + Send + 'a>,
> {
    Box::pin(async move {
        let locals = find(doc);
        if locals.is_empty() {
            return Ok(None);
        }
        let folder = template_path.parent().unwrap_or(Path::new("."));
        let mut out = doc.clone();
        for local in locals {
            let name = format!("{prefix}{}", local.resource);
            let Some(bucket) = bucket else {
                return Err(PackageError(no_bucket(&name, &local)));
            };
            let path = folder.join(&local.path);
            if !path.exists() {
                return Err(PackageError(not_found(&name, &local, &path)));
            }
            let unreadable = |e: std::io::Error| {
                PackageError(format!(
                    "resource {name}: cannot read {} `{}`: {e}",
                    local.property, local.path
                ))
            };
            // A nested template's own artifacts are compared through it: when its URL (its
            // content) is unchanged, so is everything in it.
            let nested_from = artifacts.len();
            let (bytes, extension) = match local.kind {
                Kind::ZipObject(..) | Kind::ZipUri => {
                    (zip_deterministic(&path).map_err(unreadable)?, "zip")
                }
                Kind::FileObject(..) | Kind::FileUri => (
                    std::fs::read(&path).map_err(unreadable)?,
                    path.extension().and_then(|e| e.to_str()).unwrap_or("bin"),
                ),
                Kind::Template => {
                    let text = std::fs::read_to_string(&path).map_err(unreadable)?;
                    let nested = crate::yaml::template_to_json(&text).map_err(|e| {
                        PackageError(format!(
                            "resource {name}: nested template `{}` is not valid: {e}",
                            local.path
                        ))
                    })?;
                    let inner = package_doc(
                        cfn,
                        region,
                        Some(bucket),
                        &path,
                        &nested,
                        None,
                        &format!("{name}/"),
                        artifacts,
                    )
                    .await?;
                    let body = match inner {
                        Some(packaged) => serde_json::to_vec_pretty(&packaged).unwrap_or_default(),
                        None => text.into_bytes(),
                    };
                    (body, "template")
                }
            };
            let key = format!("cfdeploy/artifacts/{}.{extension}", sha256_hex(&bytes));
            let url = cfn
                .upload(region, bucket, &key, &bytes)
                .await
                .map_err(|e| {
                    PackageError(format!(
                        "resource {name}: uploading `{}` to s3://{bucket}/{key}: {e}",
                        local.path
                    ))
                })?;
            rewrite(&mut out, &local, bucket, &key, &url);
            let now = out["Resources"][&local.resource]["Properties"][&local.property].clone();
            let before =
                deployed.map(|d| &d["Resources"][&local.resource]["Properties"][&local.property]);
            let changed = before != Some(&now);
            if !changed {
                for inner in &mut artifacts[nested_from..] {
                    inner.changed = false;
                }
            }
            artifacts.push(Artifact {
                resource: name,
                property: local.property.clone(),
                path: local.path.clone(),
                location: format!("s3://{bucket}/{key}"),
                changed,
            });
        }
        Ok(Some(out))
    })
}

mod check;
pub use check::problems;

#[cfg(test)]
mod tests;
