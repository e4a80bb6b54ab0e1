//! What every output of a run masks: the NoEcho values and `mask:` patterns of the whole config
//! (as far as it loads), and the run's own credentials.

use super::Context;
use crate::config::{self, LoadContext};
use crate::mask::Masker;

impl Context {
    /// What to mask in every output: the NoEcho values and `mask:` patterns of the whole config,
    /// as far as it loads.
    pub async fn masker(&self) -> Masker {
        // A config that cannot be fully resolved still yields every mask it can: the stacks
        // that resolve without their parameter values.
        // Masks do not depend on regions: no AWS configuration is needed to find them.
        let placeholder = |name: &str| self.env.get_raw(name).map(str::to_string);
        let for_masks = |values_not_needed| {
            config::load(
                &self.global.config,
                &[],
                &LoadContext {
                    default_region: Some("-".to_string()),
                    env: &placeholder,
                    values_not_needed,
                },
            )
        };
        let masker = match for_masks(false) {
            Ok(specs) => Masker::for_specs(&specs),
            Err(_) => match for_masks(true) {
                Ok(specs) => Masker::for_specs(&specs),
                Err(e) => {
                    // No config where none was named (commands on stacks by name): nothing to
                    // mask, nothing to say.
                    let none_named = self.global.config
                        == std::path::Path::new(crate::cli::DEFAULT_CONFIG)
                        && !self.global.config.exists();
                    if !none_named {
                        tracing::warn!(problems = %e.problems.join("; "), "the stack config does not load, so its NoEcho values and `mask:` patterns are not masked in this run's output (a plan file's patterns still are)");
                    }
                    Masker::default()
                }
            },
        };
        // The run's own credentials never show, whatever answers quote them.
        let masker = masker.with_secrets(
            [
                "GITHUB_TOKEN",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_SECURITY_TOKEN",
            ]
            .iter()
            .filter_map(|name| self.env.get(name))
            .filter(|value| value.len() >= 8),
        );
        crate::mask::mask_logs(&masker);
        masker
    }
}
