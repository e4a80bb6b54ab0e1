//! A terminal screen for the tests: runs cfdeploy on a pseudo-terminal of a given width
//! (`on_terminal.py`) and replays what it drew — text, line wrapping at the right edge, cursor up, erase
//! line and erase below — so a test can read the final screen as a user would see it.

use std::process::Command;

/// What a command left on a terminal `columns` wide, one string per screen row, and its status.
pub fn run_on_terminal(cmd: &Command, columns: usize) -> (i32, Vec<String>) {
    run_on_terminal_sized(cmd, columns, None)
}

/// As `run_on_terminal`, on a terminal `rows` high when given: the rows returned are then the
/// scrollback and the screen, as a user scrolling back would see them.
pub fn run_on_terminal_sized(
    cmd: &Command,
    columns: usize,
    rows: Option<usize>,
) -> (i32, Vec<String>) {
    let mut py = Command::new("python3");
    let size = match rows {
        Some(rows) => format!("{columns}x{rows}"),
        None => columns.to_string(),
    };
    py.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/on_terminal.py"
    ))
    .arg(size)
    .arg(cmd.get_program())
    .args(cmd.get_args())
    .env_clear();
    if let Some(dir) = cmd.get_current_dir() {
        py.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => py.env(key, v),
            None => py.env_remove(key),
        };
    }
    let out = py.output().expect("running python3 on_terminal.py");
    assert!(
        out.stderr.is_empty(),
        "on_terminal.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code().unwrap_or(-1);
    let drawn = String::from_utf8_lossy(&out.stdout);
    (code, replay_sized(&drawn, columns, rows))
}

/// The screen after drawing `output` on a terminal `columns` wide.
pub fn replay(output: &str, columns: usize) -> Vec<String> {
    replay_sized(output, columns, None)
}

/// The scrollback and screen after drawing `output` on a terminal `columns` wide and `height`
/// rows high (unbounded when `None`): rows that scrolled off the top can no longer be reached
/// by moving the cursor up, as on a real terminal.
pub fn replay_sized(output: &str, columns: usize, height: Option<usize>) -> Vec<String> {
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    // The first row of the screen; those above it are scrollback.
    let mut top = 0usize;
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut param = String::new();
                let mut command = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() {
                        command = p;
                        break;
                    }
                    param.push(p);
                }
                let n: usize = param.parse().unwrap_or(1);
                match command {
                    'A' => row = row.saturating_sub(n).max(top),
                    'K' => rows[row].clear(),
                    'J' => {
                        rows[row].truncate(col);
                        rows.truncate(row + 1);
                    }
                    _ => {} // colours and the rest do not move anything
                }
            }
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
            }
            c => {
                if col == columns {
                    // The terminal wraps at the right edge.
                    row += 1;
                    col = 0;
                }
                while rows.len() <= row {
                    rows.push(Vec::new());
                }
                let line = &mut rows[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
        while rows.len() <= row {
            rows.push(Vec::new());
        }
        if let Some(height) = height {
            top = top.max((row + 1).saturating_sub(height));
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

#[test]
fn the_screen_replays_wrapping_and_redraws() {
    // "ef" wraps to the second row; going up one row from the third and erasing it leaves room
    // for "red"; the cursor keeps its column when it moves up.
    let screen = replay("abcdef\r\nxy\r\x1b[1A\x1b[2Kred\r\n", 4);
    assert_eq!(screen, ["abcd", "red", "xy"]);
    assert_eq!(replay("ab\x1b[1Acd", 10), ["abcd"]);
    // On a screen two rows high, "a" scrolled off: moving up three rows reaches "b" only.
    let screen = replay_sized("a\nb\nc\x1b[3A\rB", 10, Some(2));
    assert_eq!(screen, ["a", "B", "c"]);
}
