//! Stack configs: read `*.yaml` files, merge each file's `defaults` into its stacks, resolve
//! `${env:NAME}`, and check every stack against its template before any AWS call. All problems
//! are collected, so a user fixes them in one pass.

mod keys;
mod raw;
mod resolve;
mod tree;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use raw::RawFile;
use resolve::resolve;

use crate::template::Template;

/// One stack, fully resolved: everything needed to create its change set.
#[derive(Debug, Clone)]
pub struct StackSpec {
    pub name: String,
    /// The config file that declares the stack.
    pub source: PathBuf,
    pub template_path: PathBuf,
    pub template: Arc<Template>,
    pub region: String,
    /// Parameters set in the config (template defaults are left to CloudFormation).
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub termination_protection: bool,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    pub template_bucket: Option<String>,
    /// Destructive changes of this stack may be applied without `--allow-destructive`.
    pub allow_destructive: bool,
    /// What the guard counts as stateful for this stack.
    pub stateful_types: crate::guard::StatefulTypes,
    /// The `mask:` patterns: matches are masked in every output.
    pub mask: Vec<regex_lite::Regex>,
}

impl StackSpec {
    /// The value the stack will run with: the config's, else the template's default.
    pub fn effective_parameters(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for p in &self.template.parameters {
            if let Some(v) = self.parameters.get(&p.name).or(p.default.as_ref()) {
                out.insert(p.name.clone(), v.clone());
            }
        }
        out
    }

    pub fn is_no_echo(&self, parameter: &str) -> bool {
        self.template
            .parameter(parameter)
            .is_some_and(|p| p.no_echo)
    }

    /// Values of NoEcho parameters set in the config: never to be shown.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.parameters
            .iter()
            .filter(|(k, _)| self.is_no_echo(k))
            .map(|(_, v)| v.as_str())
    }
}

/// Everything wrong with the configs, one line per problem.
#[derive(Debug)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "the stack config has {n} problem{}; nothing was sent to AWS:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// What the loader needs from outside: the default region and the environment.
pub struct LoadContext<'a> {
    /// `--region`, else the AWS default region; used by stacks whose config names none.
    pub default_region: Option<String>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// For acting on a saved plan: parameter and tag values are not needed (the change sets
    /// hold them), so an unset `${env:NAME}` in them is no problem and their values are not
    /// checked. Everything a safety decision reads is still checked.
    pub values_not_needed: bool,
}

/// Reads a config file, or every `*.yaml`/`*.yml` of a folder tree (`tree.rs`: sub-folders with a
/// `_defaults.yaml`), merges the inherited folder defaults, the file's `defaults` and each stack,
/// and resolves the stacks whose names match one of `selectors` (all when empty).
pub fn load(
    path: &Path,
    selectors: &[String],
    ctx: &LoadContext<'_>,
) -> Result<Vec<StackSpec>, ConfigError> {
    let files = tree::config_files(path).map_err(|p| ConfigError { problems: vec![p] })?;
    let patterns = compile_selectors(selectors)?;

    let mut problems = Vec::new();
    let mut unreadable = false;
    let mut specs = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    let mut templates: HashMap<PathBuf, Result<Arc<Template>, String>> = HashMap::new();
    let mut all_names = Vec::new();
    let mut folder_defaults = tree::FolderDefaults::default();

    for config in &files {
        let file = &config.path;
        let inherited = match folder_defaults.inherited(&config.defaults) {
            Ok(inherited) => inherited,
            Err(mut ps) => {
                problems.append(&mut ps);
                unreadable = true;
                continue;
            }
        };
        let raw = match read_file(file) {
            Ok(raw) => raw,
            Err(mut ps) => {
                problems.append(&mut ps);
                unreadable = true;
                continue;
            }
        };
        if raw.stacks.is_empty() {
            problems.push(format!(
                "{}: declares no stacks; add a `stacks:` mapping of stack names to settings",
                file.display()
            ));
        }
        let file_defaults = raw.defaults.over(&inherited);
        for (name, stack) in raw.stacks {
            all_names.push(name.clone());
            if let Some(first) = seen.get(&name) {
                problems.push(format!(
                    "{}: stack `{name}` is already declared in {}; stack names are unique across files",
                    file.display(),
                    first.display()
                ));
                continue;
            }
            seen.insert(name.clone(), file.clone());
            if !patterns.is_empty() && !patterns.iter().any(|p| p.matches(&name)) {
                continue;
            }
            let merged = stack.over(&file_defaults);
            match resolve(file, &name, merged, ctx, &mut templates) {
                Ok(spec) => specs.push(spec),
                Err(mut ps) => problems.append(&mut ps),
            }
        }
    }

    // With a file unread, its stacks are unknown: a selector matching none says nothing.
    for (selector, pattern) in selectors.iter().zip(&patterns).filter(|_| !unreadable) {
        if !all_names.iter().any(|n| pattern.matches(n)) {
            problems.push(format!(
                "--stack `{selector}` matches no stack in {}; the stacks are: {}",
                path.display(),
                if all_names.is_empty() {
                    "(none)".to_string()
                } else {
                    all_names.join(", ")
                }
            ));
        }
    }

    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(ConfigError { problems })
    }
}

fn compile_selectors(selectors: &[String]) -> Result<Vec<glob::Pattern>, ConfigError> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for s in selectors {
        match glob::Pattern::new(s) {
            Ok(p) => out.push(p),
            Err(e) => problems.push(format!("--stack `{s}` is not a valid glob: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ConfigError { problems })
    }
}

/// A config file, or every problem that keeps it from being read (each naming the file).
pub(super) fn read_file(file: &Path) -> Result<RawFile, Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| vec![format!("{}: cannot read: {e}", file.display())])?;
    // Editors on some systems start a UTF-8 file with a byte-order mark; it is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut problems: Vec<String> = lossy_integers(text).into_iter().collect();
    problems.extend(keys::unknown(text));
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| format!("{}: {p}", file.display()))
            .collect());
    }
    crate::yaml::from_str::<Option<RawFile>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| vec![format!("{}: {e}", file.display())])
}

/// An unquoted integer YAML would re-print differently (`0x1F` is 31, `+12` is 12, `007` is 7):
/// sending something other than what was written is never right, so such a value must be
/// quoted. Found by line, so the message can say where.
fn lossy_integers(text: &str) -> Option<String> {
    for (n, line) in text.lines().enumerate() {
        let code = line.split(" #").next().unwrap_or(line);
        for piece in values(code) {
            let value = piece.trim().trim_end_matches(['}', ']']).trim();
            let lossy = value.len() > 1
                && (value.starts_with("0x")
                    || value.starts_with("0o")
                    || (value.starts_with('+') && value[1..].bytes().all(|b| b.is_ascii_digit()))
                    || (value.starts_with('0') && value.bytes().all(|b| b.is_ascii_digit())));
            let digits_after_prefix = value
                .trim_start_matches(['+', '0', 'x', 'o'])
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
            if lossy && digits_after_prefix {
                return Some(format!(
                    "line {}: `{value}` would be sent as a different number (YAML reads it as an integer); write it in quotes to send it exactly as written",
                    n + 1
                ));
            }
        }
    }
    None
}

/// The pieces of a line that stand where YAML reads a value: after `: `, `, `, `[`, `{` or a block
/// sequence's `- ` (a dash inside a word, as in `svc-007:`, is part of the word).
fn values(code: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous: Option<char> = None;
    let mut chars = code.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let spaced = chars.peek().map_or(true, |(_, next)| next.is_whitespace());
        let separates = match c {
            '[' | '{' => true,
            ':' | ',' => spaced,
            '-' => spaced && previous.map_or(true, char::is_whitespace),
            _ => false,
        };
        if separates {
            if let Some(s) = start {
                pieces.push(&code[s..i]);
            }
            start = Some(i + c.len_utf8());
        }
        previous = Some(c);
    }
    if let Some(s) = start {
        pieces.push(&code[s..]);
    }
    pieces
}

/// A stack for unit tests: `name` in us-east-1 from a small template with a NoEcho `Token`.
#[cfg(test)]
pub(crate) fn test_spec(name: &str) -> StackSpec {
    const TEMPLATE: &str = "Parameters:\n  Name: {Type: String}\n  Token: {Type: String, NoEcho: true}\nResources:\n  Queue: {Type: AWS::SQS::Queue}\n  Table: {Type: AWS::DynamoDB::Table}\n";
    StackSpec {
        name: name.into(),
        source: "stacks/fleet.yaml".into(),
        template_path: "stacks/templates/service.yaml".into(),
        template: Arc::new(Template::parse(TEMPLATE.to_string()).expect("valid")),
        region: "us-east-1".into(),
        parameters: [("Name", name), ("Token", "t0ken-secret")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        tags: BTreeMap::new(),
        capabilities: vec![],
        termination_protection: false,
        role_arn: None,
        notification_arns: vec![],
        template_bucket: None,
        allow_destructive: false,
        stateful_types: crate::guard::StatefulTypes::default(),
        mask: vec![],
    }
}

#[cfg(test)]
mod tests;
