//! Generated input, a fixed number of rounds per run (seeded, so a failure reproduces): the
//! config reader, the template reader, the plan-file reader and every renderer must answer any
//! input with a result or a clear error, never a panic, and in bounded time and memory.

use crate::config::{self, LoadContext};
use crate::mask::Masker;
use crate::render::{self, Format, Style};
use crate::template::Template;

const ROUNDS: usize = 300;

/// Pieces YAML, JSON and CloudFormation are made of, and some that break them.
const PIECES: &[&str] = &[
    "stacks:",
    "defaults:",
    "parameters:",
    "tags:",
    "template:",
    "region:",
    "mask:",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "!Ref ",
    "!Sub ",
    "!GetAtt ",
    "&a ",
    "*a ",
    "<<: ",
    "~",
    "null",
    "true",
    "3.10",
    "0x1F",
    "1e3",
    "-",
    "#",
    "|",
    ">",
    "${env:X}",
    "Resources:",
    "Type: AWS::SQS::Queue",
    "Parameters:",
    "NoEcho: true",
    "Default: 1",
    "AllowedValues: [a, b]",
    "\u{feff}",
    "é",
    "\u{0}",
    "\t",
    "\r\n",
    "---",
    "...",
    "%YAML 1.2",
    "? ",
    "!!binary ",
    "s1",
    "Q",
    "templates/t.yaml",
];

fn generated(rng: &mut fastrand::Rng, pieces: usize) -> String {
    (0..rng.usize(0..pieces))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

#[test]
fn the_config_reader_answers_any_file_with_stacks_or_problems() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/t.yaml"),
        "Resources:\n  Q: {Type: AWS::SQS::Queue}\n",
    )
    .unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    for round in 0..ROUNDS {
        let text = generated(&mut rng, 40);
        std::fs::write(dir.path().join("s.yaml"), &text).unwrap();
        let env = |_: &str| Some("v".to_string());
        let result = std::panic::catch_unwind(|| {
            config::load(
                dir.path(),
                &[],
                &LoadContext {
                    default_region: Some("us-east-1".into()),
                    env: &env,
                    values_not_needed: round % 2 == 0,
                },
            )
        });
        assert!(result.is_ok(), "round {round} panicked on {text:?}");
        if let Ok(Err(e)) = result {
            assert!(
                !e.problems.is_empty(),
                "round {round}: an error names its problems"
            );
        }
    }
}

#[test]
fn the_template_reader_answers_any_text() {
    let mut rng = fastrand::Rng::with_seed(12);
    for round in 0..ROUNDS {
        let text = generated(&mut rng, 60);
        let result = std::panic::catch_unwind(|| Template::parse(text.clone()));
        assert!(result.is_ok(), "round {round} panicked on {text:?}");
    }
}

#[test]
fn an_alias_bomb_is_refused_not_expanded() {
    // "Billion laughs": each level doubles the one before; fully expanded it would not fit in
    // memory.
    let mut text = String::from("a0: &a0 [x, x]\n");
    for i in 1..40 {
        text.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
    }
    text.push_str("Resources: *a39\n");
    let started = std::time::Instant::now();
    assert!(Template::parse(text).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

fn sample_document() -> serde_json::Value {
    let plan = crate::render::tests_snapshots::sample_plan();
    serde_json::to_value(crate::planfile::document(&plan)).unwrap()
}

/// The document with one value somewhere replaced by a generated one.
fn mutated(rng: &mut fastrand::Rng, doc: &serde_json::Value) -> serde_json::Value {
    fn paths(v: &serde_json::Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let mut next = at.clone();
                    next.push(k.clone());
                    paths(v, next, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let mut next = at.clone();
                    next.push(i.to_string());
                    paths(v, next, out);
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(doc, Vec::new(), &mut all);
    let target = &all[rng.usize(..all.len())];
    let mut doc = doc.clone();
    let mut node = &mut doc;
    for key in target {
        node = match node {
            serde_json::Value::Object(m) => m.get_mut(key).unwrap(),
            serde_json::Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    *node = match rng.usize(..6) {
        0 => serde_json::Value::Null,
        1 => serde_json::json!(rng.i64(..)),
        2 => serde_json::json!(generated(rng, 10)),
        3 => serde_json::json!([]),
        4 => serde_json::json!({"unexpected": true}),
        _ => serde_json::json!(true),
    };
    doc
}

#[test]
fn the_plan_reader_answers_any_edit_of_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let doc = sample_document();
    let mut rng = fastrand::Rng::with_seed(13);
    for round in 0..ROUNDS {
        let text = if round % 3 == 0 {
            // Cut anywhere: a truncated upload.
            let full = doc.to_string();
            let at = rng.usize(..full.len());
            full.chars().take(at).collect()
        } else {
            mutated(&mut rng, &doc).to_string()
        };
        std::fs::write(&path, &text).unwrap();
        let result = std::panic::catch_unwind(|| crate::planfile::read(&path));
        assert!(result.is_ok(), "round {round} panicked on {text}");
        if let Ok(Err(e)) = result {
            assert!(
                format!("{e:#}").contains("plan.json"),
                "the error names the file: {e:#}"
            );
        }
    }
}

#[test]
fn every_renderer_draws_any_plan_at_any_width() {
    let mut rng = fastrand::Rng::with_seed(14);
    for round in 0..ROUNDS / 3 {
        let mut plan = crate::render::tests_snapshots::sample_plan();
        for stack in &mut plan.stacks {
            stack.region = generated(&mut rng, 3);
            for change in &mut stack.changes {
                change.logical_id = generated(&mut rng, 4);
                change.resource_type = generated(&mut rng, 4);
                change.physical_id = Some(generated(&mut rng, 8));
                for d in &mut change.details {
                    d.before = Some(generated(&mut rng, 12));
                    d.after = Some(generated(&mut rng, 12));
                }
            }
            stack.error = stack.error.as_ref().map(|_| generated(&mut rng, 20));
        }
        let plan = Masker::default().mask(plan);
        for format in [Format::Table, Format::Markdown, Format::Json] {
            let width = rng.u16(20..220);
            let mut out = Vec::new();
            let style = Style {
                color: rng.bool(),
                width: rng.bool().then_some(width),
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render::plan(&mut out, &plan, format, style)
            }));
            assert!(
                result.is_ok(),
                "round {round}: {format:?} at {width} panicked"
            );
        }
        let body = crate::comment::body(
            &plan,
            "stacks",
            &crate::comment::Footer::new("stacks", None),
            crate::comment::GITHUB_COMMENT_LIMIT,
        );
        assert!(body.chars().count() <= crate::comment::GITHUB_COMMENT_LIMIT);
    }
}
