//! The resource changes of one stack: a table whose words stay whole, with physical ids moved
//! under it when they do not fit, or one change after another on a terminal too narrow for it.

use std::io::{self, Write};

use comfy_table::{Cell, Table};

use crate::model::{Action, PropertyChange, Replacement, RequiresRecreation, StackPlan};
use crate::render::{
    fit_column, new_table, paint, visible_width, Fit, Style, BOLD, DIM, GREEN, RED, RED_BOLD,
    YELLOW,
};

/// Longest before/after value shown in a table cell; the JSON plan has the whole value.
const MAX_VALUE_CHARS: usize = 60;

/// Whether the resource table fits the terminal with every word whole: the identifier columns
/// whole, and a Changes column as wide as its longest word (up to `MAX_UNBROKEN_WORD`).
pub(super) fn table_fits(changes: &[crate::model::ResourceChange], style: Style) -> bool {
    let Some(width) = style.width.map(usize::from) else {
        return true;
    };
    // Each column takes its padding and one border; the table one more border.
    let action = changes
        .iter()
        .map(|c| c.action.as_str().len() + if c.destructive.is_some() { 2 } else { 0 })
        .chain(["Action".len()])
        .max()
        .unwrap_or(0);
    let ids = action
        + widest(
            &changes
                .iter()
                .map(|c| c.logical_id.clone())
                .collect::<Vec<_>>(),
            "Logical ID",
        )
        + widest(
            &changes
                .iter()
                .map(|c| c.resource_type.clone())
                .collect::<Vec<_>>(),
            "Type",
        )
        + 9;
    let replacement = if shows_replacement(changes) {
        "Replacement".len() + 3
    } else {
        0
    };
    let longest_word = changes
        .iter()
        .flat_map(|c| c.details.iter().map(|d| detail_line(d, style)))
        .flat_map(|text| {
            text.split_whitespace()
                .map(visible_width)
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0)
        .clamp("Changes".len(), crate::render::MAX_UNBROKEN_WORD);
    // Its padding and border, and the table's closing border.
    ids + replacement + longest_word + 4 <= width
}

/// The resource changes one after the other, for a terminal too narrow for the table: each
/// change's action, logical id and type, then what changes, wrapped between words.
pub(super) fn changes_stacked(
    out: &mut dyn Write,
    changes: &[crate::model::ResourceChange],
    style: Style,
) -> io::Result<()> {
    for c in changes {
        let action = match c.action {
            Action::Add => paint(style, GREEN, "Add"),
            Action::Modify => paint(style, YELLOW, "Modify"),
            Action::Remove => paint(style, RED, "Remove"),
            ref other => other.as_str().to_string(),
        };
        let mark = if c.destructive.is_some() { " ⚠" } else { "" };
        let mark = if c.drift.is_some() {
            format!("{mark} {}", paint(style, YELLOW, "(drifted)"))
        } else {
            mark.to_string()
        };
        let replacement = match &c.replacement {
            Some(Replacement::True) => format!(" {}", paint(style, RED_BOLD, "(replacement)")),
            Some(Replacement::Conditional) => {
                format!(" {}", paint(style, YELLOW, "(may be replaced)"))
            }
            _ => String::new(),
        };
        let head = format!(
            "  {action}{mark} {} {}{replacement}",
            paint(style, BOLD, &c.logical_id),
            c.resource_type
        );
        writeln!(out, "{}", crate::render::wrap(&head, style.width, 4))?;
        let policy = c.policy_action.as_deref().map(crate::render::policy_words);
        let details = c.details.iter().map(|d| detail_line(d, style));
        for text in policy.into_iter().chain(details) {
            for line in text.lines() {
                let depth = 4 + (line.len() - line.trim_start().len());
                let indented = format!("{}{}", " ".repeat(depth), line.trim_start());
                writeln!(
                    out,
                    "{}",
                    crate::render::wrap(&indented, style.width, depth + 2)
                )?;
            }
        }
        if let Some(physical) = &c.physical_id {
            let line = format!("    {}", paint(style, DIM, physical));
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Narrowest the Changes column may get before physical ids move out of the table.
const MIN_CHANGES_WIDTH: usize = 24;

/// The resource table, and the (logical id, physical id) pairs that did not fit in it: when the
/// terminal is too narrow for physical ids whole, they go under the table rather than being cut
/// into pieces.
pub(super) fn resource_table(stack: &StackPlan, style: Style) -> (Table, Vec<(String, String)>) {
    let mut table = new_table(style.width);

    /// A column: its header, how it may wrap, and its cells.
    struct Column {
        header: &'static str,
        fit: Fit,
        cells: Vec<String>,
    }
    let changes = &stack.changes;
    let mut columns = vec![
        Column {
            header: "Action",
            fit: Fit::Whole,
            cells: changes
                .iter()
                .map(|c| {
                    let action = match c.action {
                        Action::Add => paint(style, GREEN, "Add"),
                        Action::Modify => paint(style, YELLOW, "Modify"),
                        Action::Remove => paint(style, RED, "Remove"),
                        ref other => other.as_str().to_string(),
                    };
                    let action = if c.destructive.is_some() {
                        format!("{action} {}", paint(style, RED_BOLD, "⚠"))
                    } else {
                        action
                    };
                    if c.drift.is_some() {
                        format!("{action} {}", paint(style, YELLOW, "(drifted)"))
                    } else {
                        action
                    }
                })
                .collect(),
        },
        Column {
            header: "Logical ID",
            fit: Fit::Whole,
            cells: changes.iter().map(|c| c.logical_id.clone()).collect(),
        },
        Column {
            header: "Type",
            fit: Fit::Whole,
            cells: changes.iter().map(|c| c.resource_type.clone()).collect(),
        },
    ];
    // Columns that are empty for every row (a CREATE has no physical ids) are left out.
    let physical: Vec<String> = changes
        .iter()
        .map(|c| c.physical_id.clone().unwrap_or_else(|| "-".to_string()))
        .collect();
    let mut moved = Vec::new();
    if changes.iter().any(|c| c.physical_id.is_some()) {
        let used: usize = columns.iter().map(|c| widest(&c.cells, c.header) + 3).sum();
        if fits_whole(used, &physical, changes, style) {
            columns.push(Column {
                header: "Physical ID",
                fit: Fit::Whole,
                cells: physical,
            });
        } else {
            moved = changes
                .iter()
                .filter_map(|c| Some((c.logical_id.clone(), c.physical_id.clone()?)))
                .collect();
        }
    }
    if shows_replacement(changes) {
        columns.push(Column {
            header: "Replacement",
            fit: Fit::Whole,
            cells: changes
                .iter()
                .map(|c| match &c.replacement {
                    Some(Replacement::True) => paint(style, RED_BOLD, "True"),
                    Some(Replacement::Conditional) => paint(style, YELLOW, "Conditional"),
                    Some(r) => r.as_str().to_string(),
                    None => "-".to_string(),
                })
                .collect(),
        });
    }
    if changes
        .iter()
        .any(|c| !c.details.is_empty() || c.policy_action.is_some())
    {
        // What the other columns leave, each with its padding and border, and the last border.
        let used: usize = columns.iter().map(|c| widest(&c.cells, c.header) + 3).sum();
        let room = style.width.map(|w| usize::from(w).saturating_sub(used + 2));
        columns.push(Column {
            header: "Changes",
            fit: Fit::BetweenWords { room },
            cells: changes
                .iter()
                .map(|c| {
                    let policy = c
                        .policy_action
                        .as_deref()
                        .map(crate::render::policy_words)
                        .into_iter();
                    policy
                        .chain(c.details.iter().map(|d| detail_line(d, style)))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect(),
        });
    }

    table.set_header(
        columns
            .iter()
            .map(|c| Cell::new(paint(style, BOLD, c.header))),
    );
    for row in 0..changes.len() {
        table.add_row(columns.iter().map(|c| c.cells[row].clone()));
    }
    for (i, column) in columns.iter().enumerate() {
        fit_column(&mut table, i, column.header, &column.cells, column.fit);
    }
    (table, moved)
}

/// Whether the Replacement column says anything: a column of `False` only takes room from the
/// changes (a property that forces replacement is marked in the Changes column either way).
fn shows_replacement(changes: &[crate::model::ResourceChange]) -> bool {
    changes.iter().any(|c| {
        matches!(
            c.replacement,
            Some(Replacement::True) | Some(Replacement::Conditional)
        )
    })
}

/// The widest cell of a column, header included, in terminal columns.
fn widest(cells: &[String], header: &str) -> usize {
    cells
        .iter()
        .map(|c| visible_width(c))
        .chain([header.chars().count()])
        .max()
        .unwrap_or(0)
}

/// Whether the table can hold the physical ids whole (next to columns already `used` wide, each
/// with its padding and border) and still leave the Changes column room.
fn fits_whole(
    used: usize,
    physical: &[String],
    changes: &[crate::model::ResourceChange],
    style: Style,
) -> bool {
    let Some(width) = style.width.map(usize::from) else {
        return true;
    };
    let replacement = if shows_replacement(changes) {
        "Replacement".len() + 3
    } else {
        0
    };
    let changes_room = if changes.iter().any(|c| !c.details.is_empty()) {
        MIN_CHANGES_WIDTH + 3
    } else {
        0
    };
    // The table's closing border takes the last column.
    used + widest(physical, "Physical ID") + 3 + replacement + changes_room < width
}

fn detail_line(d: &PropertyChange, style: Style) -> String {
    let mut lines = crate::render::change_lines(d, MAX_VALUE_CHARS);
    if d.before.is_none() && d.after.is_none() {
        if let Some(source) = d
            .change_source
            .as_deref()
            .filter(|s| *s != "DirectModification")
        {
            let entity = d
                .causing_entity
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            lines[0].push_str(&format!(" ({source}{entity})"));
        }
    }
    match d.requires_recreation {
        Some(RequiresRecreation::Always) => {
            lines[0].push(' ');
            lines[0].push_str(&paint(style, RED_BOLD, "[replaces]"));
        }
        Some(RequiresRecreation::Conditionally) => {
            lines[0].push(' ');
            lines[0].push_str(&paint(style, YELLOW, "[may replace]"));
        }
        _ => {}
    }
    // CloudFormation gave several causes for this one change: one line each.
    if d.causes.len() > 1 {
        for cause in &d.causes {
            lines.push(format!("  caused by {cause}"));
        }
    }
    lines.join("\n")
}
