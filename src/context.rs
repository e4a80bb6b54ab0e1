//! What flags, the environment and the terminal mean for a run, resolved once in `lib::run`:
//! colour and width for stdout and stderr, the progress mode, whether a person can be asked, the
//! AWS client and the stack config (built once, on first use), and the masker. Nothing else in
//! cfdeploy reads the process environment (the config's `${env:NAME}` reads it through here).

mod identity;
mod masks;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use tokio::sync::OnceCell;

use crate::cfn::sdk::{SdkCloudFormation, SdkOptions};
use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::{self, ConfigError, LoadContext, StackSpec};
use crate::progress::ProgressMode;
use crate::render::Style;
use crate::run::RunContext;
use crate::signals::Interrupt;

/// The process environment, read once at start.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn capture() -> Env {
        Env {
            vars: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The variable's value; an empty one counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value, even when it is empty (for `${env:NAME}`, where empty is a value).
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Which standard streams are terminals, and the terminal's width.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub width: Option<u16>,
}

impl Terminal {
    pub fn detect() -> Terminal {
        let stdout = std::io::stdout().is_terminal();
        let stderr = std::io::stderr().is_terminal();
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout,
            stderr,
            width: (stdout || stderr)
                .then(|| terminal_size::terminal_size().map(|(w, _)| w.0))
                .flatten(),
        }
    }
}

/// Everything a command needs that does not come from its own arguments.
pub struct Context {
    pub global: GlobalArgs,
    pub env: Env,
    pub terminal: Terminal,
    /// How to draw on stdout: colour only on a terminal without `NO_COLOR`; width from `COLUMNS`
    /// or the terminal.
    pub stdout: Style,
    /// How to draw on stderr (progress, and results that go there).
    pub stderr: Style,
    /// The run's correlation id and start time.
    pub run: RunContext,
    cfn: OnceCell<Arc<SdkCloudFormation>>,
    specs: OnceCell<Result<Vec<StackSpec>, Arc<ConfigError>>>,
    interrupt: std::sync::OnceLock<Interrupt>,
}

impl Context {
    pub fn resolve(global: GlobalArgs, env: Env, terminal: Terminal) -> Context {
        let no_color = env.get("NO_COLOR").is_some();
        let color = |tty: bool| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        let columns = env
            .get("COLUMNS")
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| *c >= 40);
        let stdout_width = columns.or(terminal.stdout.then_some(terminal.width).flatten());
        let run = RunContext {
            origin: crate::run::Origin::from_env(|name| env.get(name).map(str::to_string)),
            ..RunContext::new()
        };
        let stderr_width = columns.or(terminal.stderr.then_some(terminal.width).flatten());
        Context {
            stdout: Style {
                color: color(terminal.stdout),
                width: stdout_width,
            },
            stderr: Style {
                color: color(terminal.stderr),
                width: stderr_width,
            },
            global,
            env,
            terminal,
            run,
            cfn: OnceCell::new(),
            specs: OnceCell::new(),
            interrupt: std::sync::OnceLock::new(),
        }
    }

    /// Starts listening for Ctrl-C and SIGTERM (once, at the start of the run, in the runtime).
    pub fn listen_for_interrupts(&self) {
        self.interrupt.get_or_init(crate::signals::listen);
    }

    /// The run's interrupt levels (none ever, if nothing listens: in tests).
    pub fn interrupt(&self) -> Interrupt {
        self.interrupt
            .get()
            .cloned()
            .unwrap_or_else(|| tokio::sync::watch::channel(0u8).1)
    }

    /// A person can be asked a question: stdin and stderr are terminals.
    pub fn interactive(&self) -> bool {
        self.terminal.stdin && self.terminal.stderr
    }

    /// NDJSON when asked, live lines on a terminal, append-only lines otherwise (CI logs).
    pub fn progress_mode(&self, ndjson: bool) -> ProgressMode {
        if ndjson {
            ProgressMode::Ndjson
        } else if self.terminal.stderr {
            ProgressMode::Live
        } else {
            ProgressMode::Lines
        }
    }

    /// The AWS client, as `--profile` and `--region` ask; built once (credentials are resolved
    /// lazily, on the first call).
    pub async fn cfn(&self) -> Arc<SdkCloudFormation> {
        self.cfn
            .get_or_init(|| async {
                Arc::new(
                    SdkCloudFormation::load(&SdkOptions {
                        profile: self.global.profile.clone(),
                        region: self.global.region.clone(),
                        max_attempts: self.global.max_attempts,
                        connect_timeout: Duration::from_secs(self.global.connect_timeout),
                        call_timeout: Duration::from_secs(self.global.call_timeout),
                        custom_endpoint: self.env.get("AWS_ENDPOINT_URL").is_some()
                            || self.env.get("AWS_ENDPOINT_URL_S3").is_some(),
                    })
                    .await,
                )
            })
            .await
            .clone()
    }

    /// The region for stacks whose config names none: `--region`, else the AWS default.
    pub async fn default_region(&self) -> Option<String> {
        match &self.global.region {
            Some(r) => Some(r.clone()),
            None => self.cfn().await.default_region(),
        }
    }

    /// Every stack of the config, checked; loaded once.
    async fn all_stacks(&self) -> Result<&[StackSpec], Arc<ConfigError>> {
        let loaded = self
            .specs
            .get_or_init(|| async { self.load(&[], false).await.map_err(Arc::new) })
            .await;
        loaded.as_deref().map_err(Arc::clone)
    }

    async fn load(
        &self,
        selectors: &[String],
        values_not_needed: bool,
    ) -> Result<Vec<StackSpec>, ConfigError> {
        let default_region = self.default_region().await;
        let env = |name: &str| self.env.get_raw(name).map(str::to_string);
        config::load(
            &self.global.config,
            selectors,
            &LoadContext {
                default_region,
                env: &env,
                values_not_needed,
            },
        )
    }

    /// Every stack of the config as `apply --plan` needs it: what decides safety (region,
    /// destructive allowance, stateful types, masks), without the parameter values the saved
    /// change sets already hold.
    pub async fn stacks_for_saved_plan(&self) -> Result<Vec<StackSpec>> {
        match self.all_stacks().await {
            Ok(specs) => Ok(specs.to_vec()),
            Err(_) => Ok(self.load(&[], true).await.map_err(|e| {
                anyhow::anyhow!(
                    "{e}apply decides regions and destructive allowances from the stack config, so it needs the config to load"
                )
            })?),
        }
    }

    /// `--stack` selects part of the config.
    pub fn selects_part(&self) -> bool {
        !self.global.stacks.is_empty()
    }

    /// The stacks `--stack` selects (all without it), checked before any AWS call. Every problem
    /// of the config is reported at once.
    pub async fn selected_stacks(&self) -> Result<Vec<StackSpec>> {
        Ok(self.load(&self.global.stacks, false).await?)
    }

    /// The stacks `--stack` selects, checked as `plan` checks them, with every problem kept
    /// apart (for `validate`, which sorts them).
    pub async fn checked_stacks(&self) -> Result<Vec<StackSpec>, ConfigError> {
        self.load(&self.global.stacks, false).await
    }

    /// The names of the stacks `--stack` selects from the config, for commands that act on
    /// deployed stacks by name (their parameter values are not needed).
    pub async fn selected_names(&self) -> Result<Vec<String>> {
        let specs = self.load(&self.global.stacks, true).await?;
        Ok(specs.into_iter().map(|s| s.name).collect())
    }

    /// For commands that take stack names: the `named` ones, then those `--stack` selects from
    /// the config; with neither, every stack of the config when `all_by_default`, else none.
    pub async fn named_and_selected(
        &self,
        named: &[String],
        all_by_default: bool,
    ) -> Result<Vec<String>> {
        let mut names = named.to_vec();
        let select = !self.global.stacks.is_empty() || (names.is_empty() && all_by_default);
        if select {
            for name in self.selected_names().await? {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    /// The region of a stack named on the command line: the config's when the stack is in it
    /// (unless `--region` says otherwise), else `--region` or the AWS default region.
    pub async fn stack_region(&self, stack: &str) -> Result<String> {
        if self.global.region.is_none() {
            if let Ok(specs) = self.all_stacks().await {
                if let Some(spec) = specs.iter().find(|s| s.name == stack) {
                    return Ok(spec.region.clone());
                }
            }
        }
        match self.default_region().await {
            Some(region) => Ok(region),
            None => bail!(
                "no region for stack `{stack}`: it is not in {} and no --region or AWS default region is set",
                self.config_path().display()
            ),
        }
    }

    pub fn config_path(&self) -> &PathBuf {
        &self.global.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn context(env: &[(&str, &str)], terminal: Terminal, args: &[&str]) -> Context {
        let mut argv = vec!["cfdeploy"];
        argv.extend_from_slice(args);
        argv.push("plan");
        let cli = crate::cli::Cli::parse_from(argv);
        Context::resolve(cli.global, Env::from_pairs(env.iter().copied()), terminal)
    }

    const TTY: Terminal = Terminal {
        stdin: true,
        stdout: true,
        stderr: true,
        width: Some(120),
    };

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        let c = context(&[], TTY, &[]);
        assert!(c.stdout.color && c.stderr.color);
        assert_eq!(c.stdout.width, Some(120));
        let c = context(&[("NO_COLOR", "1")], TTY, &[]);
        assert!(!c.stdout.color && !c.stderr.color);
        let c = context(&[("NO_COLOR", "1")], TTY, &["--color", "always"]);
        assert!(c.stdout.color);
        let piped = Terminal {
            stdout: false,
            ..TTY
        };
        let c = context(&[], piped, &[]);
        assert!(!c.stdout.color && c.stderr.color);
        assert_eq!(c.stdout.width, None, "no width when stdout is piped");
    }

    #[test]
    fn columns_sets_the_width_everywhere() {
        let c = context(&[("COLUMNS", "80")], Terminal::default(), &[]);
        assert_eq!((c.stdout.width, c.stderr.width), (Some(80), Some(80)));
        let c = context(&[("COLUMNS", "12")], Terminal::default(), &[]);
        assert_eq!(c.stdout.width, None, "too narrow to be meant");
    }

    #[test]
    fn progress_is_live_only_on_a_terminal() {
        assert_eq!(
            context(&[], TTY, &[]).progress_mode(false),
            ProgressMode::Live
        );
        assert_eq!(
            context(&[], Terminal::default(), &[]).progress_mode(false),
            ProgressMode::Lines
        );
        assert_eq!(
            context(&[], TTY, &[]).progress_mode(true),
            ProgressMode::Ndjson
        );
        assert!(!context(&[], Terminal::default(), &[]).interactive());
    }
}
