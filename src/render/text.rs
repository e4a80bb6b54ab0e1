//! Fitting text to where it is shown: tables in the house style, wrapping at word boundaries,
//! values cut around what differs, JSON values on one line.

use super::shown_value;

/// A table in the house style, fitted to `width` columns when the output has a width.
pub fn new_table(width: Option<u16>) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    match width {
        Some(w) => {
            table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            table.set_width(w);
        }
        None => {
            table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
    }
    table
}

/// Longest word a column that wraps between words keeps whole; longer ones (URLs, ARNs) may break.
pub(crate) const MAX_UNBROKEN_WORD: usize = 30;

/// How a table column may wrap in a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Never: identifiers (logical ids, types, statuses) stay whole.
    Whole,
    /// Between words only, up to `MAX_UNBROKEN_WORD`, and never wider than `room` allows (free
    /// text: property changes, reasons). Longer words break.
    BetweenWords { room: Option<usize> },
}

/// Constrains column `index` of `table` to `fit` its `cells` (which may hold colour codes).
pub(crate) fn fit_column(
    table: &mut comfy_table::Table,
    index: usize,
    header: &str,
    cells: &[String],
    fit: Fit,
) {
    use comfy_table::{ColumnConstraint, Width};
    let width = |f: &dyn Fn(&str) -> usize| {
        cells
            .iter()
            .map(|c| f(c))
            .chain([header.chars().count()])
            .max()
            .unwrap_or(0)
    };
    // comfy-table's widths include the cell's padding, one space each side.
    let fixed = |w: usize| Width::Fixed(u16::try_from(w + 2).unwrap_or(u16::MAX));
    let constraint = match fit {
        Fit::Whole => ColumnConstraint::Absolute(fixed(width(&visible_width))),
        Fit::BetweenWords { room } => {
            let longest_word =
                width(&|c: &str| c.split_whitespace().map(visible_width).max().unwrap_or(0));
            let bound = longest_word
                .min(MAX_UNBROKEN_WORD)
                .min(room.unwrap_or(usize::MAX).saturating_sub(2).max(1));
            ColumnConstraint::LowerBoundary(fixed(bound))
        }
    };
    if let Some(column) = table.column_mut(index) {
        column.set_constraint(constraint);
    }
}

/// Characters a terminal shows for `text`, colour codes (ESC [ ... m) left out.
pub(crate) fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for ch in text.chars() {
        if in_escape {
            if ch == 'm' {
                in_escape = false;
            }
        } else if ch == '\u{1b}' {
            in_escape = true;
        } else {
            width += 1;
        }
    }
    width
}

/// `text` broken between words to fit `width` columns (when known), every line after the first
/// indented by `indent` spaces.
pub(crate) fn wrap(text: &str, width: Option<u16>, indent: usize) -> String {
    let Some(width) = width.map(usize::from).filter(|w| *w > indent + 20) else {
        return text.to_string();
    };
    let lead = text.len() - text.trim_start().len();
    let mut out = text[..lead].to_string();
    let mut line = lead;
    for word in text.split_whitespace() {
        let len = visible_width(word);
        if line > lead && line + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line = indent;
        } else if line > lead {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// Two values cut to at most `max` characters each, keeping the part around their first
/// difference (a long ARN or JSON that differs at its end shows where it differs).
pub fn cut_pair(before: &str, after: &str, max: usize) -> (String, String) {
    let (b, a): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    if b.len() <= max && a.len() <= max {
        return (before.to_string(), after.to_string());
    }
    let first_difference = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let start = first_difference.saturating_sub(max / 3);
    let cut = |chars: &[char]| {
        let end = (start + max.saturating_sub(2)).min(chars.len());
        let mut text: String = chars[start.min(chars.len())..end].iter().collect();
        if start > 0 {
            text.insert(0, '…');
        }
        if end < chars.len() {
            text.push('…');
        }
        text
    };
    (cut(&b), cut(&a))
}

/// How a property change reads: `label: before → after`, or, for a JSON value, the label and
/// each changed place on its own line (`  maxReceiveCount: 5 → 10`). At most `max` characters
/// per value, cut around the first difference.
pub fn change_lines(d: &crate::model::PropertyChange, max: usize) -> Vec<String> {
    const MAX_PLACES: usize = 8;
    let mut lines = vec![d.label()];
    if !d.value_changes.is_empty() {
        for v in d.value_changes.iter().take(MAX_PLACES) {
            let path = if v.path.is_empty() {
                "(whole value)"
            } else {
                &v.path
            };
            let text = match (&v.before, &v.after) {
                (Some(b), Some(a)) => {
                    let (b, a) = cut_pair(b, a, max);
                    format!("{path}: {b} → {a}")
                }
                (None, Some(a)) => format!("{path}: added {}", truncate(a, max)),
                (Some(b), None) => format!("{path}: removed (was {})", truncate(b, max)),
                (None, None) => path.to_string(),
            };
            lines.push(format!("  {text}"));
        }
        if d.value_changes.len() > MAX_PLACES {
            lines.push(format!(
                "  … and {} more changes inside (the JSON plan has them all)",
                d.value_changes.len() - MAX_PLACES
            ));
        }
        return lines;
    }
    if d.before.is_some() || d.after.is_some() {
        let shown = |v: &Option<String>| v.as_deref().map(shown_value);
        let (b, a) = match (shown(&d.before), shown(&d.after)) {
            (Some(b), Some(a)) => cut_pair(&b, &a, max),
            (b, a) => (
                b.map(|b| truncate(&b, max))
                    .unwrap_or_else(|| "(none)".into()),
                a.map(|a| truncate(&a, max))
                    .unwrap_or_else(|| "(none)".into()),
            ),
        };
        lines[0] = format!("{}: {b} → {a}", d.label());
    }
    lines
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A property value on one line: JSON is compacted, whitespace runs collapse.
pub fn one_line(value: &str) -> String {
    let compact = serde_json::from_str::<serde_json::Value>(value)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .map(|v| v.to_string());
    let text = compact.unwrap_or_else(|| value.to_string());
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_around_their_first_difference() {
        let before = format!("arn:aws:iam::123456789012:role/{}-reader", "x".repeat(80));
        let after = format!("arn:aws:iam::123456789012:role/{}-writer", "x".repeat(80));
        let (b, a) = cut_pair(&before, &after, 40);
        assert!(b.ends_with("reader") && a.ends_with("writer"), "{b} / {a}");
        assert!(b.starts_with('…') && b.chars().count() <= 40, "{b}");
        assert_eq!(
            cut_pair("short", "shorter", 40),
            ("short".into(), "shorter".into())
        );
    }

    #[test]
    fn long_values_are_cut_and_json_compacted() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(one_line("{\n  \"a\": 1\n}"), "{\"a\":1}");
    }
}
