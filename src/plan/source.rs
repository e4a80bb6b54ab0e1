//! What a stack's change set is created from: the template as written, or, when its resources
//! point at local paths, the packaged template (`package.rs`); sent inline, or over
//! CloudFormation's inline limit, stored in the stack's `template_bucket` and passed by URL.

use super::StackProblem;
use crate::cfn::{ChangeSetType, CloudFormation, TemplateSource};
use crate::config::StackSpec;
use crate::fingerprint::sha256_hex;
use crate::package::{self, Artifact};

/// The template a change set is made from.
pub struct Sent {
    pub template: TemplateSource,
    /// Its text (the packaged one when packaged): what the plan diffs and fingerprints.
    pub body: String,
    pub artifacts: Vec<Artifact>,
    /// The deployed template, when packaging an update read it (to tell changed artifacts).
    pub deployed: Option<String>,
}

pub async fn prepare<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    change_set_type: ChangeSetType,
) -> Result<Sent, StackProblem> {
    let mut sent = Sent {
        template: TemplateSource::Body(String::new()),
        body: spec.template.body.clone(),
        artifacts: Vec::new(),
        deployed: None,
    };
    let doc = crate::yaml::template_to_json(&spec.template.body).ok();
    if let Some(doc) = doc.filter(package::has_local_artifacts) {
        if change_set_type == ChangeSetType::Update {
            sent.deployed = Some(cfn.get_template(&spec.region, &spec.name).await?);
        }
        let deployed = sent
            .deployed
            .as_deref()
            .and_then(|d| crate::yaml::template_to_json(d).ok());
        let packaged = package::package(
            cfn,
            &spec.region,
            spec.template_bucket.as_deref(),
            &spec.template_path,
            &doc,
            deployed.as_ref(),
        )
        .await
        .map_err(|e| StackProblem::State(e.to_string()))?;
        if let Some(body) = packaged.body {
            sent.body = body;
        }
        sent.artifacts = packaged.artifacts;
    }
    sent.template = store(cfn, spec, &sent.body).await?;
    Ok(sent)
}

/// The template inline, or, over CloudFormation's inline limit, uploaded to the stack's
/// `template_bucket` under a content-addressed key (the same template is stored once) and passed
/// by URL.
async fn store<C: CloudFormation>(
    cfn: &C,
    spec: &StackSpec,
    body: &str,
) -> Result<TemplateSource, StackProblem> {
    if body.len() <= crate::template::MAX_TEMPLATE_BODY_BYTES {
        return Ok(TemplateSource::Body(body.to_string()));
    }
    let bucket = spec.template_bucket.as_deref().ok_or_else(|| {
        StackProblem::State(
            "the template is too large to send inline; set `template_bucket`".into(),
        )
    })?;
    let extension = spec
        .template_path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("template");
    let key = format!(
        "cfdeploy/templates/{}.{extension}",
        sha256_hex(body.as_bytes())
    );
    let url = cfn
        .upload(&spec.region, bucket, &key, body.as_bytes())
        .await
        .map_err(|e| {
            StackProblem::State(format!(
                "uploading the template to s3://{bucket}/{key}: {e}"
            ))
        })?;
    tracing::info!(stack = %spec.name, url = %url, "template uploaded");
    Ok(TemplateSource::Url(url))
}
