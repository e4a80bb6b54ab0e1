//! One function per subcommand, over the parsed arguments.

pub mod apply;
pub mod comment;
pub mod events;
pub mod plan;
pub mod rollback;

use std::io::{self, Write};

use anyhow::Result;

use crate::cfn::sdk::{SdkCloudFormation, SdkOptions};
use crate::cli::GlobalArgs;
use crate::config::{self, LoadContext, StackSpec};

/// The AWS SDK as `--profile` and `--region` ask (credentials are resolved lazily, on first call).
pub async fn sdk(global: &GlobalArgs) -> SdkCloudFormation {
    SdkCloudFormation::load(&SdkOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        max_attempts: None,
    })
    .await
}

/// Loads the SDK and the stack configs; a config problem is reported before any AWS call.
pub async fn load(global: &GlobalArgs) -> Result<(SdkCloudFormation, Vec<StackSpec>)> {
    let cfn = sdk(global).await;
    let env = |name: &str| std::env::var(name).ok();
    let specs = config::load(
        &global.config,
        &global.stacks,
        &LoadContext {
            default_region: cfn.default_region(),
            env: &env,
        },
    )?;
    Ok((cfn, specs))
}

/// Reads a plan written by `plan --out`, checking its kind, version and entries.
pub fn read_plan(path: &std::path::Path) -> Result<crate::model::Plan> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    let doc: crate::render::json::PlanDocument =
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a cfdeploy plan (write one with `cfdeploy plan --out FILE`)",
                path.display()
            )
        })?;
    if doc.kind != "plan" || doc.version != crate::render::json::SCHEMA_VERSION {
        anyhow::bail!(
            "{}: a `{}` document of version {}; this cfdeploy reads `plan` documents of version {}",
            path.display(),
            doc.kind,
            doc.version,
            crate::render::json::SCHEMA_VERSION
        );
    }
    crate::render::json::plan_from_document(&doc)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The masks of the stack config, when it loads (a plan file holds no secrets, but a value may
/// match a `mask:` pattern added since): defense in depth for outputs made from a plan file.
pub fn config_masker(global: &GlobalArgs) -> crate::mask::Masker {
    let env = |name: &str| std::env::var(name).ok();
    config::load(
        &global.config,
        &[],
        &LoadContext {
            // Only fills in stacks without a region; irrelevant to masking.
            default_region: Some(
                global
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_string()),
            ),
            env: &env,
        },
    )
    .map(|specs| crate::mask::Masker::for_specs(&specs))
    .unwrap_or_default()
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match f(&mut lock).and_then(|()| lock.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Runs until the run ends, turning Ctrl-C and SIGTERM into interrupt levels (1, then 2).
pub fn watch_signals() -> tokio::sync::watch::Receiver<u8> {
    let (tx, rx) = tokio::sync::watch::channel(0u8);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminate = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate => {}
            }
            let level = tx.borrow().saturating_add(1);
            if level == 1 {
                eprintln!("interrupted: starting no new stacks, cancelling updates in progress and waiting for them to roll back (creates are left to CloudFormation); interrupt again to stop waiting");
            } else {
                eprintln!("interrupted again: not waiting any more");
            }
            if tx.send(level).is_err() || level >= 2 {
                break;
            }
        }
    });
    rx
}

/// Keeps a live progress display ticking (elapsed times) until dropped.
pub fn redraw_ticker(
    progress: std::sync::Arc<crate::progress::Progress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if progress.mode() != crate::progress::ProgressMode::Live {
            return;
        }
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            progress.redraw();
        }
    })
}

/// How progress is shown: NDJSON when asked, live lines on a terminal, append-only lines in CI.
pub fn progress_mode(ndjson: bool) -> crate::progress::ProgressMode {
    use std::io::IsTerminal;
    if ndjson {
        crate::progress::ProgressMode::Ndjson
    } else if std::io::stderr().is_terminal() {
        crate::progress::ProgressMode::Live
    } else {
        crate::progress::ProgressMode::Lines
    }
}

/// The region of a stack named on the command line, and the secrets to mask: from the stack
/// config when the stack is in it, else `--region` or the AWS default region.
pub fn stack_region(
    global: &GlobalArgs,
    cfn: &SdkCloudFormation,
    stack: &str,
) -> Result<(String, crate::mask::Masker)> {
    let env = |name: &str| std::env::var(name).ok();
    let specs = config::load(
        &global.config,
        &[],
        &LoadContext {
            default_region: cfn.default_region(),
            env: &env,
        },
    )
    .unwrap_or_default();
    let masker = crate::mask::Masker::for_specs(&specs);
    if let Some(spec) = specs.iter().find(|s| s.name == stack) {
        if global.region.is_none() {
            return Ok((spec.region.clone(), masker));
        }
    }
    match global.region.clone().or_else(|| cfn.default_region()) {
        Some(region) => Ok((region, masker)),
        None => anyhow::bail!(
            "no region for stack `{stack}`: it is not in {} and no --region or AWS default region is set",
            global.config.display()
        ),
    }
}
