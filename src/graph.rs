//! The deploy order of a fleet: `depends_on` makes a stack go after the stacks it names. The
//! graph is checked when the config is read (unknown names, a stack depending on itself, cycles,
//! each reported with its file), and gives the levels a rollout runs in: every stack of a level
//! depends only on stacks of earlier levels.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One stack another depends on: named in `depends_on` (`via: None`), or read by a
/// `${stack:NAME.Output}` reference in the key `via`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub name: String,
    pub via: Option<String>,
}

/// The problems of a config's dependencies: `stacks` is every stack (name, file, what it depends
/// on) in config order.
pub fn check(stacks: &[(String, PathBuf, Vec<Dep>)]) -> Vec<String> {
    let names: Vec<&str> = stacks.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut problems = Vec::new();
    for (name, file, deps) in stacks {
        for Dep { name: dep, via } in deps {
            let hint = || {
                strsim_nearest(dep, &names)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default()
            };
            let at = format!("{}: stack `{name}`", file.display());
            match via {
                _ if names.contains(&dep.as_str()) && dep != name => {}
                None if dep == name => {
                    problems.push(format!("{at}: `depends_on` names the stack itself"))
                }
                Some(key) if dep == name => problems.push(format!(
                    "{at}: `{key}` reads an output of the stack itself"
                )),
                None => problems.push(format!(
                    "{at}: `depends_on` names `{dep}`, which is not a stack of the config{}",
                    hint()
                )),
                Some(key) => problems.push(format!(
                    "{at}: `{key}` reads an output of `{dep}`, which is not a stack of the config{}; a stack outside it is written `${{stack:REGION/{dep}.Output}}`",
                    hint()
                )),
            }
        }
    }
    if let Some(cycle) = find_cycle(stacks) {
        problems.push(format!(
            "stacks depend on each other in a cycle: {}; remove one of these `depends_on`",
            cycle.join(" → ")
        ));
    }
    problems
}

fn strsim_nearest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(name, n), *n))
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// A cycle among known stacks, as names from a stack back to itself.
fn find_cycle(stacks: &[(String, PathBuf, Vec<Dep>)]) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, Vec<&str>> = stacks
        .iter()
        .map(|(n, _, d)| (n.as_str(), d.iter().map(|d| d.name.as_str()).collect()))
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        node: &'a str,
        deps: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(node, 1);
        path.push(node);
        for &next in deps.get(node).into_iter().flatten() {
            if !deps.contains_key(next) || next == node {
                continue; // reported as unknown or as itself
            }
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|n| *n == next).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|n| n.to_string()).collect();
                    cycle.push(next.to_string());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, deps, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    for (name, _, _) in stacks {
        if state.get(name.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(name, &deps, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The levels of `stacks` (name, depends_on), in config order within a level: each stack's
/// dependencies among `stacks` are all in earlier levels. Dependencies outside `stacks` (not
/// selected, or not part of this run) do not hold a stack back. The config was checked for
/// cycles; should one remain, the stacks in it form a last level.
pub fn levels(stacks: &[(String, Vec<String>)]) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    let mut levels = Vec::new();
    while placed.len() < stacks.len() {
        let level: Vec<usize> = (0..stacks.len())
            .filter(|i| !placed.contains(i))
            .filter(|&i| {
                stacks[i]
                    .1
                    .iter()
                    .filter_map(|d| index.get(d.as_str()))
                    .all(|d| placed.contains(d))
            })
            .collect();
        if level.is_empty() {
            levels.push((0..stacks.len()).filter(|i| !placed.contains(i)).collect());
            break;
        }
        placed.extend(&level);
        levels.push(level);
    }
    levels
}

/// The deploy order as text: one line per level, each stack with what it waits for.
pub fn text(stacks: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    for (n, level) in levels(stacks).iter().enumerate() {
        let names: Vec<String> = level
            .iter()
            .map(|&i| {
                let (name, deps) = &stacks[i];
                if deps.is_empty() {
                    name.clone()
                } else {
                    format!("{name} (after {})", deps.join(", "))
                }
            })
            .collect();
        out.push_str(&format!("{}. {}\n", n + 1, names.join(", ")));
    }
    out
}

/// The graph as Mermaid (an arrow from each stack to the stacks that go after it).
pub fn mermaid(stacks: &[(String, Vec<String>)]) -> String {
    let id = |name: &str| -> String {
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    let mut out = String::from("graph TD\n");
    for (name, deps) in stacks {
        out.push_str(&format!("  {}[\"{name}\"]\n", id(name)));
        for dep in deps {
            out.push_str(&format!("  {} --> {}\n", id(dep), id(name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(stacks: &[(&str, &[&str])]) -> Vec<(String, PathBuf, Vec<Dep>)> {
        stacks
            .iter()
            .map(|(n, d)| {
                (
                    n.to_string(),
                    PathBuf::from("stacks/fleet.yaml"),
                    d.iter()
                        .map(|s| Dep {
                            name: s.to_string(),
                            via: None,
                        })
                        .collect(),
                )
            })
            .collect()
    }

    fn plain(stacks: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        cfg(stacks)
            .into_iter()
            .map(|(n, _, d)| (n, d.into_iter().map(|d| d.name).collect()))
            .collect()
    }

    #[test]
    fn levels_follow_the_dependencies_in_config_order() {
        let fleet = plain(&[
            ("orders", &["network"]),
            ("network", &[]),
            ("billing", &["network", "db"]),
            ("db", &["network"]),
            ("docs", &[]),
        ]);
        let names = |level: &Vec<usize>| -> Vec<&str> {
            level.iter().map(|&i| fleet[i].0.as_str()).collect()
        };
        let levels = levels(&fleet);
        assert_eq!(
            levels.iter().map(names).collect::<Vec<_>>(),
            [
                vec!["network", "docs"],
                vec!["orders", "db"],
                vec!["billing"]
            ]
        );
        assert_eq!(
            text(&fleet),
            "1. network, docs\n2. orders (after network), db (after network)\n3. billing (after network, db)\n"
        );
        assert!(mermaid(&fleet).contains("  network --> orders\n"));
    }

    #[test]
    fn a_dependency_outside_the_run_holds_nothing_back() {
        let fleet = plain(&[("orders", &["network"])]);
        assert_eq!(levels(&fleet), [vec![0]]);
    }

    #[test]
    fn unknown_names_self_dependencies_and_cycles_are_problems_naming_them() {
        let problems = check(&cfg(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a"]),
            ("d", &["d", "netwrok"]),
            ("network", &[]),
        ]));
        let all = problems.join("\n");
        assert!(
            all.contains("stack `d`: `depends_on` names the stack itself"),
            "{all}"
        );
        assert!(
            all.contains(
                "names `netwrok`, which is not a stack of the config (did you mean `network`?)"
            ),
            "{all}"
        );
        assert!(all.contains("in a cycle: a → b → c → a"), "{all}");
        assert!(check(&cfg(&[("a", &["b"]), ("b", &[])])).is_empty());
    }
}
