//! The table of outcomes after apply or rollback (stack, result, final status, duration, note),
//! identifiers whole; on a terminal too narrow for that, one stack per line.

use std::io::{self, Write};

use comfy_table::Cell;

use crate::model::{Outcome, OutcomeKind};
use crate::render::{
    fit_column, new_table, paint, visible_width, wrap, Fit, Style, BOLD, GREEN, RED_BOLD,
};

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Narrowest a Note column may be before notes go under each stack instead.
const MIN_NOTE_WIDTH: usize = 20;

/// The table of outcomes (stack, result, final status, duration, note), its identifiers whole;
/// on a terminal too narrow for that, each stack on its own lines.
pub(super) fn outcome_rows(
    out: &mut dyn Write,
    outcomes: &[Outcome],
    style: Style,
) -> io::Result<()> {
    let notes = outcomes.iter().any(|o| o.message.is_some());
    let headers: &[&str] = if notes {
        &["Stack", "Result", "Status", "Duration", "Note"]
    } else {
        &["Stack", "Result", "Status", "Duration"]
    };
    let status = |o: &Outcome| {
        o.status
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".to_string())
    };
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            let mut row = vec![
                o.stack.clone(),
                o.kind.label().to_string(),
                status(o),
                duration(o.seconds),
            ];
            if notes {
                row.push(o.message.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    let widest = |i: usize, f: &dyn Fn(&str) -> usize| {
        rows.iter()
            .map(|r| f(&r[i]))
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let longest_word = |c: &str| c.split_whitespace().map(visible_width).max().unwrap_or(0);
    // Stack, status and duration whole, the result between words; each column with its padding
    // and border, and the table's closing border.
    let fixed = widest(0, &visible_width) + widest(2, &visible_width) + widest(3, &visible_width);
    let narrowest = fixed + widest(1, &longest_word) + 4 * 3 + 1;
    let note_room = style
        .width
        .map(|w| usize::from(w).saturating_sub(narrowest + 3));
    let width = style.width.map(usize::from);
    if width.is_some_and(|w| w < narrowest || (notes && note_room < Some(MIN_NOTE_WIDTH))) {
        for (o, row) in outcomes.iter().zip(&rows) {
            let result = paint_result(style, o);
            let line = format!(
                "{} · {result} · {} · {}",
                paint(style, BOLD, &row[0]),
                row[2],
                row[3]
            );
            writeln!(out, "{}", wrap(&line, style.width, 4))?;
            if let Some(message) = &o.message {
                writeln!(out, "{}", wrap(&format!("    {message}"), style.width, 4))?;
            }
        }
        return Ok(());
    }
    let mut table = new_table(style.width);
    table.set_header(headers.iter().map(|h| Cell::new(paint(style, BOLD, h))));
    for (o, row) in outcomes.iter().zip(&rows) {
        let mut painted = row.clone();
        painted[1] = paint_result(style, o);
        table.add_row(painted);
    }
    for (i, header) in headers.iter().enumerate() {
        let cells: Vec<String> = rows.iter().map(|r| r[i].clone()).collect();
        let fit = match i {
            1 => Fit::BetweenWords { room: None },
            4 => Fit::BetweenWords { room: note_room },
            _ => Fit::Whole,
        };
        fit_column(&mut table, i, header, &cells, fit);
    }
    writeln!(out, "{table}")
}

fn paint_result(style: Style, o: &Outcome) -> String {
    if o.kind.succeeded() {
        paint(style, GREEN, o.kind.label())
    } else if o.kind == OutcomeKind::NotStarted {
        o.kind.label().to_string()
    } else {
        paint(style, RED_BOLD, o.kind.label())
    }
}
