//! Which files a config is, and what each inherits: a file, or every `*.yaml`/`*.yml` of a folder
//! and of its sub-folders that have a `_defaults.yaml`. A `_defaults.yaml` holds one `defaults:`
//! block for every config file in its folder and below; a file inherits the `_defaults.yaml` of
//! its own folder and of each parent folder, upwards while there is one, the nearest winning.
//! Sub-folders without one (templates, say) are not read, as before folders could nest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::raw::RawStack;

/// The name of a folder's defaults file.
pub const DEFAULTS_FILE: &str = "_defaults.yaml";

/// One config file and the `_defaults.yaml` files it inherits, outermost first.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub defaults: Vec<PathBuf>,
}

pub fn config_files(path: &Path) -> Result<Vec<ConfigFile>, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "{}: cannot read the stack config ({e}); pass --config with a YAML file or a folder of them",
            path.display()
        )
    })?;
    if meta.is_file() {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return Ok(vec![ConfigFile {
            path: path.to_path_buf(),
            defaults: upwards(folder),
        }]);
    }
    let mut files = Vec::new();
    walk(path, upwards(path), &mut files)?;
    if files.is_empty() {
        return Err(format!(
            "{}: no *.yaml or *.yml stack configs in this folder (sub-folders are read when they have a {DEFAULTS_FILE}; others are for templates)",
            path.display()
        ));
    }
    Ok(files)
}

/// The `_defaults.yaml` of `folder` and of each parent while there is one, outermost first.
/// Paths stay relative (`../_defaults.yaml` above the working folder), as users wrote them.
fn upwards(folder: &Path) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    let mut dir = folder.to_path_buf();
    let mut seen = std::collections::HashSet::new();
    while let Ok(real) = std::fs::canonicalize(&dir) {
        let candidate = dir.join(DEFAULTS_FILE);
        // The root is its own parent.
        if !seen.insert(real) || !candidate.is_file() {
            break;
        }
        chain.push(candidate);
        dir = match dir.file_name() {
            Some(_) => dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            None => dir.join(".."),
        };
    }
    chain.reverse();
    chain
}

/// The config files of `folder` (sorted), then those of each sub-folder with a `_defaults.yaml`.
fn walk(folder: &Path, inherited: Vec<PathBuf>, out: &mut Vec<ConfigFile>) -> Result<(), String> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| format!("{}: cannot list the folder: {e}", folder.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths.iter().filter(|p| p.is_file()) {
        let is_yaml = matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml")
        );
        let is_defaults = p.file_name().and_then(|n| n.to_str()) == Some(DEFAULTS_FILE);
        if is_yaml && !is_defaults {
            out.push(ConfigFile {
                path: p.clone(),
                defaults: inherited.clone(),
            });
        }
    }
    for sub in paths.iter().filter(|p| p.is_dir()) {
        let defaults = sub.join(DEFAULTS_FILE);
        if defaults.is_file() {
            let mut chain = inherited.clone();
            chain.push(defaults);
            walk(sub, chain, out)?;
        }
    }
    Ok(())
}

/// The folder defaults read so far, each read once.
#[derive(Default)]
pub struct FolderDefaults {
    read: HashMap<PathBuf, Result<RawStack, Vec<String>>>,
}

impl FolderDefaults {
    /// The defaults `chain` (outermost first) gives a file: each nearer one over the outer ones.
    pub fn inherited(&mut self, chain: &[PathBuf]) -> Result<RawStack, Vec<String>> {
        let mut merged = RawStack::default();
        for path in chain {
            let defaults = self.read.entry(path.clone()).or_insert_with(|| read(path));
            merged = defaults.clone()?.over(&merged);
        }
        Ok(merged)
    }
}

/// A `_defaults.yaml`: a `defaults:` block and nothing else, its `template` relative to its folder.
fn read(path: &Path) -> Result<RawStack, Vec<String>> {
    let raw = super::read_file(path)?;
    if !raw.stacks.is_empty() {
        return Err(vec![format!(
            "{}: a {DEFAULTS_FILE} holds only `defaults:` for the folder; declare the stacks in another file of the folder",
            path.display()
        )]);
    }
    let mut defaults = raw.defaults;
    if defaults.template.is_some() {
        defaults.template_base = Some(path.parent().unwrap_or(Path::new(".")).to_path_buf());
    }
    if defaults.fleet.is_some() {
        defaults.fleet_origin = Some(path.to_path_buf());
    }
    Ok(defaults)
}
