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

/// Problems that several stacks of one file share (a template they all use, say) said once,
/// naming the stacks: `file: stacks `a`, `b` and 3 more: what`. Others are kept as they are, in
/// the order they came.
pub(super) fn collapse(problems: Vec<String>) -> Vec<String> {
    /// `(file, stack, what)` of `file: stack `name`: what`.
    fn split(problem: &str) -> Option<(&str, &str, &str)> {
        let (file, rest) = problem.split_once(": stack `")?;
        let (stack, what) = rest.split_once("`: ")?;
        Some((file, stack, what))
    }
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for problem in problems {
        let key = split(&problem).map(|(file, _, what)| format!("{file}\u{0}{what}"));
        let found = key
            .as_ref()
            .and_then(|k| groups.iter_mut().find(|(g, _)| g == k));
        match (found, key) {
            (Some((_, members)), _) => members.push(problem),
            (None, Some(key)) => groups.push((key, vec![problem])),
            (None, None) => groups.push((String::new(), vec![problem])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| match members.as_slice() {
            [one] => one.clone(),
            [first, ..] => {
                let (file, _, what) = split(first).expect("grouped by its parts");
                let names: Vec<String> = members
                    .iter()
                    .filter_map(|m| split(m).map(|(_, stack, _)| format!("`{stack}`")))
                    .collect();
                // "and 1 more" would be longer than the name.
                let shown = if names.len() <= 4 { names.len() } else { 3 };
                let mut list = names[..shown].join(", ");
                if names.len() > shown {
                    list.push_str(&format!(" and {} more", names.len() - shown));
                }
                format!("{file}: stacks {list}: {what}")
            }
            [] => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::collapse;

    #[test]
    fn a_problem_several_stacks_of_a_file_share_is_said_once_naming_them() {
        let broken = "template t.yaml is not valid: Resources.T: `Ref` to `Nope`";
        let problems = vec![
            format!("a.yaml: stack `s1`: {broken}"),
            "a.yaml: stack `s1`: parameter `X` is not declared".to_string(),
            format!("a.yaml: stack `s2`: {broken}"),
            "--stack `[` is not a valid glob".to_string(),
            format!("b.yaml: stack `t1`: {broken}"),
            format!("a.yaml: stack `s3`: {broken}"),
            format!("a.yaml: stack `s4`: {broken}"),
            format!("a.yaml: stack `s5`: {broken}"),
        ];
        assert_eq!(
            collapse(problems),
            [
                format!("a.yaml: stacks `s1`, `s2`, `s3` and 2 more: {broken}"),
                "a.yaml: stack `s1`: parameter `X` is not declared".to_string(),
                "--stack `[` is not a valid glob".to_string(),
                format!("b.yaml: stack `t1`: {broken}"),
            ]
        );
    }
}
