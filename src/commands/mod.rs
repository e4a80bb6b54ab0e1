//! One function per subcommand, over the parsed arguments.

pub mod plan;

use std::io::{self, Write};

use anyhow::Result;

use crate::cfn::sdk::{SdkCloudFormation, SdkOptions};
use crate::cli::GlobalArgs;
use crate::config::{self, LoadContext, StackSpec};

/// Loads the SDK (credentials are resolved lazily) and the stack configs; a config problem is
/// reported before any AWS call.
pub async fn load(global: &GlobalArgs) -> Result<(SdkCloudFormation, Vec<StackSpec>)> {
    let cfn = SdkCloudFormation::load(&SdkOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        max_attempts: None,
    })
    .await;
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

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match f(&mut lock).and_then(|()| lock.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
