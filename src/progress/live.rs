//! The live block's layout: which stacks' lines fit the terminal, and each line cut to its
//! width, so that redrawing in place never wraps or leaves stale rows.

use std::collections::BTreeSet;

/// One stack's live line, before layout.
pub(super) struct Row<'a> {
    pub(super) stack: &'a str,
    pub(super) state: &'a str,
    pub(super) done: usize,
    pub(super) total: usize,
    pub(super) elapsed: u64,
    /// Where it goes when not every row fits.
    pub(super) shown_as: Shown,
}

/// Which rows are shown first when not every one fits: running, then failed, then done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Shown {
    Running,
    Failed,
    Done,
}

/// The fewest rows the live block takes, however short the terminal says it is.
pub(super) const MIN_LIVE_ROWS: usize = 3;

/// The rows that fit in `max` terminal rows: all of them when they do; else the running stacks
/// first, then the failed, then the done, each in the order they started, and a last line that
/// counts the rest (every stack is in the summary at the end).
pub(super) fn fit(rows: Vec<Row<'_>>, max: usize) -> (Vec<Row<'_>>, Option<String>) {
    if rows.len() <= max {
        return (rows, None);
    }
    let keep = max.saturating_sub(1).max(1);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rows[i].shown_as, i));
    let shown: BTreeSet<usize> = order.into_iter().take(keep).collect();
    let (mut running, mut failed, mut done) = (0, 0, 0);
    let mut kept = Vec::with_capacity(keep);
    for (i, row) in rows.into_iter().enumerate() {
        match (shown.contains(&i), row.shown_as) {
            (true, _) => kept.push(row),
            (false, Shown::Running) => running += 1,
            (false, Shown::Failed) => failed += 1,
            (false, Shown::Done) => done += 1,
        }
    }
    let more = format!(
        "… {} more stacks: {running} running, {failed} failed, {done} done",
        running + failed + done
    );
    (kept, Some(more))
}

/// The live lines, each cut to fit in `columns` so that none wraps (the redraw moves up one
/// terminal row per line). The name column is `name_width` wide (the longest name of the run,
/// known from the start, so it never re-pads); the status column is as wide as the longest status
/// shown. Where the terminal is too narrow for every column, the resource count goes, then the
/// line is cut at the end, marked with `…`.
pub(super) fn live_block(rows: &[Row<'_>], name_width: usize, columns: usize) -> Vec<String> {
    let name_width = rows
        .iter()
        .map(|r| r.stack.chars().count())
        .max()
        .unwrap_or(0)
        .max(name_width);
    let state_width = rows
        .iter()
        .map(|r| r.state.chars().count())
        .max()
        .unwrap_or(0);
    let room = columns.saturating_sub(1).max(10);
    rows.iter()
        .map(|r| {
            let count = if r.total > 0 {
                format!("{}/{} resources", r.done, r.total)
            } else {
                format!("{} resources", r.done)
            };
            let time = format!("{}m{:02}s", r.elapsed / 60, r.elapsed % 60);
            let full = format!(
                "{:name_width$}  {:state_width$}  {count:<15}  {time}",
                r.stack, r.state
            );
            let line = if full.chars().count() <= room {
                full
            } else {
                format!("{:name_width$}  {:state_width$}  {time}", r.stack, r.state)
            };
            crate::render::truncate(line.trim_end(), room)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(stack: &'a str, state: &'a str, done: usize, total: usize) -> Row<'a> {
        Row {
            stack,
            state,
            done,
            total,
            elapsed: 75,
            shown_as: Shown::Running,
        }
    }

    #[test]
    fn a_fleet_taller_than_the_terminal_shows_the_running_stacks_and_counts_the_rest() {
        let names: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let rows = || {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| Row {
                    // Stacks 0, 3, 6, 9 have finished; 6 failed.
                    shown_as: match i {
                        6 => Shown::Failed,
                        0 | 3 | 9 => Shown::Done,
                        _ => Shown::Running,
                    },
                    ..row(n, "UPDATE_IN_PROGRESS", 0, 1)
                })
                .collect::<Vec<_>>()
        };
        let (all, more) = fit(rows(), 10);
        assert_eq!((all.len(), more), (10, None), "they fit: all, nothing said");

        let (shown, more) = fit(rows(), 5);
        let shown: Vec<&str> = shown.iter().map(|r| r.stack).collect();
        assert_eq!(
            shown,
            ["s1", "s2", "s4", "s5"],
            "running first, in start order"
        );
        assert_eq!(
            more.as_deref(),
            Some("… 6 more stacks: 2 running, 1 failed, 3 done"),
            "the last row counts the rest: 4 + 1 rows in all"
        );

        // Fewer running than rows: the failed one next, then the done ones, oldest first.
        let (shown, more) = fit(rows(), 9);
        let shown: Vec<&str> = shown.iter().map(|r| r.stack).collect();
        assert_eq!(shown, ["s0", "s1", "s2", "s4", "s5", "s6", "s7", "s8"]);
        assert_eq!(
            more.as_deref(),
            Some("… 2 more stacks: 0 running, 0 failed, 2 done")
        );
    }

    #[test]
    fn live_lines_never_wrap_and_keep_their_columns() {
        let rows = [
            row("orders-prod", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", 3, 4),
            row(
                "billing-prod",
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                1,
                2,
            ),
        ];
        for columns in [200, 100, 80, 60, 40, 20] {
            let lines = live_block(&rows, 0, columns);
            for line in &lines {
                assert!(
                    line.chars().count() < columns,
                    "{columns} columns: {line:?} would wrap"
                );
            }
        }
        let wide = live_block(&rows, 0, 200);
        assert_eq!(
            wide[0],
            "orders-prod   UPDATE_COMPLETE_CLEANUP_IN_PROGRESS           3/4 resources    1m15s"
        );
        // Columns line up: the status and the count start at the same place on every line.
        assert_eq!(wide[0].find("UPDATE"), wide[1].find("UPDATE"));
        assert_eq!(wide[0].find("3/4"), wide[1].find("1/2"));
        // Narrower: the count goes before anything is cut.
        let narrow = live_block(&rows, 0, 70);
        assert_eq!(
            narrow[1],
            "billing-prod  UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS  1m15s"
        );
        let tiny = live_block(&rows, 0, 30);
        assert!(tiny[1].ends_with('…'), "{}", tiny[1]);
    }

    #[test]
    fn the_name_column_is_as_wide_as_the_longest_expected_name_from_the_start() {
        let first = live_block(&[row("a", "CREATE_IN_PROGRESS", 0, 2)], 12, 120);
        assert!(
            first[0].starts_with("a             CREATE_IN_PROGRESS"),
            "{:?}",
            first[0]
        );
    }
}
