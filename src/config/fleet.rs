//! What the config knows about stacks beyond each one: the fleets it declares (whether this run
//! read all of each, and the regions looked in for their stacks that left the config), and the
//! regions of the stacks that references read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::{resolve, tree, LoadContext, StackSpec};

/// A fleet, as one of its stacks' config declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    pub name: String,
    /// The file that declares it (a `_defaults.yaml`, or the stacks' own file).
    pub origin: PathBuf,
    /// This run read every file the declaration covers, so a stack of the fleet missing from
    /// it has left the config (reading one file below a folder's `_defaults.yaml` is not that).
    pub covered: bool,
    /// Regions looked in for its stacks that left the config besides those the config uses
    /// (`fleet_regions`).
    pub regions: Vec<String>,
}

/// Decides whether this run read all of each fleet (`Fleet::covered`), and reports a fleet
/// declared in two places: with each declaration read alone, the other's stacks would look as
/// if they had left the config.
pub(super) fn mark_fleets(path: &Path, specs: &mut [StackSpec]) -> Vec<String> {
    let mut origins: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut problems = Vec::new();
    let read_root = std::fs::canonicalize(path).ok().filter(|p| p.is_dir());
    for fleet in specs.iter_mut().filter_map(|s| s.fleet.as_mut()) {
        match origins.get(&fleet.name) {
            Some(first) if first != &fleet.origin => {
                let problem = format!(
                    "{}: fleet `{}` is also declared in {}; declare a fleet once, in the `_defaults.yaml` above all its stacks",
                    fleet.origin.display(),
                    fleet.name,
                    first.display()
                );
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
            Some(_) => {}
            None => {
                origins.insert(fleet.name.clone(), fleet.origin.clone());
            }
        }
        let is_defaults =
            fleet.origin.file_name().and_then(|n| n.to_str()) == Some(tree::DEFAULTS_FILE);
        fleet.covered = !is_defaults
            || match (&read_root, fleet.origin.parent().map(std::fs::canonicalize)) {
                (Some(root), Some(Ok(folder))) => folder.starts_with(root),
                _ => false,
            };
    }
    problems
}

/// The regions looked in for the fleets' stacks that left the config, by `plan` and `apply`
/// alike: none without a fleet read whole (`Fleet::covered`); else every region the config uses,
/// and those its fleets list in `fleet_regions` (a region being retired).
pub fn fleet_regions(specs: &[StackSpec]) -> BTreeSet<String> {
    let fleets: Vec<&super::Fleet> = specs
        .iter()
        .filter_map(|s| s.fleet.as_ref())
        .filter(|f| f.covered)
        .collect();
    if fleets.is_empty() {
        return BTreeSet::new();
    }
    let listed = fleets.iter().flat_map(|f| f.regions.iter());
    specs
        .iter()
        .map(|s| &s.region)
        .chain(listed)
        .cloned()
        .collect()
}

/// Records for each stack the region of every stack of the config its references read, from the
/// regions as written (`regions`, every stack of the config, selected or not).
pub(super) fn upstream_regions(
    specs: &mut [StackSpec],
    regions: &HashMap<String, Option<String>>,
    ctx: &LoadContext<'_>,
) {
    for spec in specs.iter_mut() {
        for (_, r) in spec.references.iter().filter(|(_, r)| r.region.is_none()) {
            let written = regions.get(&r.stack).cloned().flatten();
            let region = match written {
                Some(region) => resolve::interpolate_env(&region, ctx.env).ok(),
                None => ctx.default_region.clone(),
            };
            if let Some(region) = region {
                spec.upstream_regions.insert(r.stack.clone(), region);
            }
        }
    }
}
