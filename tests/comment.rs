//! `cfdeploy comment` end to end against a local stand-in for GitHub's REST API on 127.0.0.1,
//! serving the three calls the comment uses and recording every request.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::{json as parse, run, Run, Workspace};

const TOKEN: &str = "ghs_TestTokenThatMustNeverShow123";
const BOT: &str = "github-actions[bot]";

#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    authorization: String,
    body: String,
}

type Headers = Vec<(String, String)>;

/// A canned failure: status, body, extra headers.
#[derive(Clone)]
struct Failure(u16, String, Headers);

#[derive(Default)]
struct State {
    comments: Vec<(u64, String)>,
    /// Who wrote each comment (the Actions bot unless a test says otherwise).
    authors: HashMap<u64, String>,
    /// What `GET /user` answers: a login, or (None) 403 as for GITHUB_TOKEN.
    user: Option<String>,
    requests: Vec<Request>,
    /// Answer every request with this status (and body), to test errors.
    fail: Option<Failure>,
    next_id: u64,
}

struct FakeGitHub {
    api: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let base = api.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let base = base.clone();
                std::thread::spawn(move || serve(stream, &state, &base));
            }
        });
        FakeGitHub { api, state }
    }

    fn seed(&self, bodies: impl IntoIterator<Item = String>) {
        self.seed_by(BOT, bodies);
    }

    fn seed_by(&self, author: &str, bodies: impl IntoIterator<Item = String>) {
        let mut st = self.state.lock().unwrap();
        for body in bodies {
            st.next_id += 1;
            let id = st.next_id;
            st.comments.push((id, body));
            st.authors.insert(id, author.to_string());
        }
    }

    /// Requests about comments (the `GET /user` that asks who the token is left out).
    fn requests(&self) -> Vec<Request> {
        self.all_requests()
            .into_iter()
            .filter(|r| r.path != "/user")
            .collect()
    }

    fn all_requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    fn comments(&self) -> Vec<(u64, String)> {
        self.state.lock().unwrap().comments.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, base: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            if h == "\r\n" || h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_lowercase(), v.trim().to_string());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let body = String::from_utf8(body).unwrap();
        let (status, extra, reply) = handle(state, base, &method, &target, &headers, body);
        let mut response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            reply.len()
        );
        for (k, v) in extra {
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&reply);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn handle(
    state: &Mutex<State>,
    base: &str,
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
    body: String,
) -> (u16, Vec<(String, String)>, String) {
    let mut st = state.lock().unwrap();
    st.requests.push(Request {
        method: method.to_string(),
        path: target.to_string(),
        authorization: headers.get("authorization").cloned().unwrap_or_default(),
        body: body.clone(),
    });
    if let Some(Failure(status, reply, extra)) = st.fail.clone() {
        return (status, extra, reply);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let authors = st.authors.clone();
    let as_json = |id: u64, body: &str| {
        let login = authors.get(&id).cloned().unwrap_or_else(|| BOT.to_string());
        json!({"id": id, "body": body, "user": {"login": login}, "html_url": format!("https://github.test/o/r/pull/7#issuecomment-{id}")})
    };
    match (method, segments.as_slice()) {
        ("GET", ["user"]) => match &st.user {
            Some(login) => (200, vec![], json!({"login": login}).to_string()),
            None => (
                403,
                vec![],
                r#"{"message": "Resource not accessible by integration"}"#.to_string(),
            ),
        },
        ("GET", ["repos", "o", "r", "issues", "7", "comments"]) => {
            let page: usize = query
                .split('&')
                .find_map(|p| p.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let items: Vec<Value> = st
                .comments
                .iter()
                .skip((page - 1) * 100)
                .take(100)
                .map(|(id, b)| as_json(*id, b))
                .collect();
            let mut extra = Vec::new();
            if st.comments.len() > page * 100 {
                extra.push((
                    "Link".to_string(),
                    format!(
                        "<{base}/repos/o/r/issues/7/comments?per_page=100&page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            (200, extra, Value::Array(items).to_string())
        }
        ("POST", ["repos", "o", "r", "issues", "7", "comments"]) => {
            let text = serde_json::from_str::<Value>(&body).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string();
            st.next_id += 1;
            let id = st.next_id;
            st.comments.push((id, text.clone()));
            let author = st.user.clone().unwrap_or_else(|| BOT.to_string());
            st.authors.insert(id, author.clone());
            let reply = json!({"id": id, "body": text, "user": {"login": author}, "html_url": format!("https://github.test/o/r/pull/7#issuecomment-{id}")});
            (201, vec![], reply.to_string())
        }
        ("PATCH", ["repos", "o", "r", "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap();
            let text = serde_json::from_str::<Value>(&body).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string();
            match st.comments.iter_mut().find(|(i, _)| *i == id) {
                Some(c) => {
                    c.1 = text.clone();
                    (200, vec![], as_json(id, &text).to_string())
                }
                None => (404, vec![], r#"{"message": "Not Found"}"#.to_string()),
            }
        }
        _ => (404, vec![], r#"{"message": "Not Found"}"#.to_string()),
    }
}

/// A plan file with `stacks` stacks of `changes` changes each (the first stack's first change
/// destructive when `destructive`).
fn plan_file(ws: &Workspace, stacks: usize, changes: usize, destructive: bool) {
    let stacks: Vec<Value> = (0..stacks)
        .map(|s| {
            json!({
                "stack": format!("svc{s:02}-prod"), "region": "us-east-1", "source": "stacks/fleet.yaml",
                "status": if changes == 0 { "no-changes" } else { "update" },
                "stack_id": null, "change_set_arn": if changes == 0 { Value::Null } else { json!(format!("arn:aws:cloudformation:us-east-1:1:changeSet/c/{s}")) },
                "change_set_name": null, "error": null,
                "changes": (0..changes).map(|c| json!({
                    "action": "Modify", "logical_id": format!("Queue{c:03}"), "physical_id": format!("https://sqs.us-east-1.amazonaws.com/1/svc{s}-q{c}"),
                    "resource_type": "AWS::SQS::Queue", "replacement": if destructive && s == 0 && c == 0 { "True" } else { "False" }, "scope": ["Properties"],
                    "details": [{"attribute": "Properties", "name": "RedrivePolicy", "path": "/Properties/RedrivePolicy", "requires_recreation": "Never",
                                 "before": format!("{{\"maxReceiveCount\": {c}, \"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:1:svc{s}-dlq-with-a-long-name\"}}"),
                                 "after": format!("{{\"maxReceiveCount\": {}, \"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:1:svc{s}-dlq-with-a-long-name\"}}", c + 1),
                                 "change_type": "Modify", "change_source": "DirectModification", "causing_entity": null, "evaluation": "Static"}],
                    "destructive": destructive && s == 0 && c == 0,
                    "destructive_reason": if destructive && s == 0 && c == 0 { json!("replaces stateful AWS::SQS::Queue Queue000 (no UpdateReplacePolicy Retain or Snapshot)") } else { Value::Null },
                })).collect::<Vec<_>>(),
                "parameters": [],
                "template_diff": if changes == 0 { Value::Null } else { json!((0..60).map(|i| format!("-      MaxReceiveCount{i}: 3\n+      MaxReceiveCount{i}: 5\n")).collect::<String>()) },
                "fingerprint": {"stack_status": "UPDATE_COMPLETE", "last_updated": null, "deployed_template_sha256": null, "deployed_parameters_sha256": null, "template_sha256": "ab", "parameters_sha256": "cd"},
            })
        })
        .collect();
    let doc = json!({"version": 1, "kind": "plan", "correlation_id": "3f9a2c0011223344", "created_at": "2026-11-23T10:15:00Z", "stacks": stacks,
                     "summary": {"stacks": 0, "to_change": 0, "unchanged": 0, "busy": 0, "failed": 0, "add": 0, "modify": 0, "replace": 0, "remove": 0, "import": 0}});
    ws.write("plan.json", &serde_json::to_string(&doc).unwrap());
}

fn comment(ws: &Workspace, gh: &FakeGitHub, extra: &[&str]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfdeploy"));
    cmd.env_clear()
        .current_dir(ws.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", &gh.api)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_EVENT_PATH", ws.path().join("event.json"))
        .args(["comment", "--plan", "plan.json"])
        .args(extra);
    ws.write(
        "event.json",
        r#"{"action": "synchronize", "pull_request": {"number": 7}}"#,
    );
    let out = run(&mut cmd);
    assert!(
        !out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "the token leaked"
    );
    for r in gh.requests() {
        assert_eq!(
            r.authorization,
            format!("Bearer {TOKEN}"),
            "{} {}",
            r.method,
            r.path
        );
        assert!(!r.body.contains(TOKEN));
    }
    out
}

#[test]
fn the_first_run_creates_the_comment_and_the_next_updates_it_in_place() {
    let gh = FakeGitHub::start();
    let ws = Workspace::new();
    plan_file(&ws, 2, 3, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("created the plan comment on pull request #7"),
        "{}",
        out.stderr
    );
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0]
        .1
        .starts_with("<!-- cfdeploy-plan config=stacks -->\n"));
    assert!(comments[0].1.contains("commit <code>0123456789ab</code>"));

    plan_file(&ws, 2, 0, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("updated the plan comment"),
        "{}",
        out.stderr
    );
    let after = gh.comments();
    assert_eq!(after.len(), 1, "updated in place, not a second comment");
    assert_eq!(after[0].0, comments[0].0);
    assert!(
        after[0]
            .1
            .contains("Nothing to apply: every stack matches its config."),
        "{}",
        after[0].1
    );
    let methods: Vec<String> = gh.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);
    let asked: Vec<String> = gh
        .all_requests()
        .iter()
        .filter(|r| r.path == "/user")
        .map(|r| r.authorization.clone())
        .collect();
    assert_eq!(asked.len(), 2, "each run asks who the token is");
}

#[test]
fn a_comment_with_the_marker_written_by_someone_else_is_never_adopted() {
    let gh = FakeGitHub::start();
    // Anyone can paste the marker; only the token's own comment is cfdeploy's.
    gh.seed_by(
        "mallory",
        ["<!-- cfdeploy-plan config=stacks -->\nplease run @org/admins [here](https://evil.test)"
            .to_string()],
    );
    let ws = Workspace::new();
    plan_file(&ws, 1, 2, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = gh.comments();
    assert_eq!(after.len(), 2, "a comment of its own was created");
    assert!(
        after[0].1.contains("mallory") || after[0].1.contains("@org/admins"),
        "untouched"
    );
    assert!(
        !gh.requests().iter().any(|r| r.method == "PATCH"),
        "mallory's comment was not edited"
    );

    // The next run finds and updates its own comment, still leaving mallory's alone.
    let again = comment(&ws, &gh, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(gh.comments().len(), 2);
    let patched: Vec<String> = gh
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        patched,
        [format!("/repos/o/r/issues/comments/{}", after[1].0)]
    );
}

#[test]
fn with_a_personal_token_the_owner_is_the_tokens_user() {
    let gh = FakeGitHub::start();
    gh.state.lock().unwrap().user = Some("deploy-bot".to_string());
    gh.seed_by(
        "deploy-bot",
        ["<!-- cfdeploy-plan config=stacks -->\nold".to_string()],
    );
    let ws = Workspace::new();
    plan_file(&ws, 1, 2, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        gh.comments().len(),
        1,
        "its own comment was updated in place"
    );
    assert!(gh.comments()[0].1.contains("### cfdeploy plan"));
}

#[test]
fn a_foreign_comment_that_looks_alike_is_left_alone() {
    let gh = FakeGitHub::start();
    gh.seed([
        "I ran cfdeploy-plan config=stacks by hand: <!-- cfdeploy-plan config=stacks --> looks fine".to_string(),
        "<!-- cfdeploy-plan config=other-stacks -->\n### cfdeploy plan".to_string(),
    ]);
    let before = gh.comments();
    let ws = Workspace::new();
    plan_file(&ws, 1, 2, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = gh.comments();
    assert_eq!(after.len(), 3, "a new comment of its own");
    assert_eq!(&after[..2], &before[..], "the others are untouched");
}

#[test]
fn the_marker_is_found_past_the_first_page_of_comments() {
    let gh = FakeGitHub::start();
    let mut bodies: Vec<String> = (0..150).map(|i| format!("review comment {i}")).collect();
    bodies[130] = "<!-- cfdeploy-plan config=stacks -->\nold plan".to_string();
    gh.seed(bodies);
    let ours = gh.comments()[130].0;
    let ws = Workspace::new();
    plan_file(&ws, 1, 2, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let requests = gh.requests();
    assert_eq!(
        requests.iter().filter(|r| r.method == "GET").count(),
        2,
        "two pages read"
    );
    let patch: Vec<&Request> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patch.len(), 1);
    assert!(patch[0].path.ends_with(&format!("/issues/comments/{ours}")));
    assert_eq!(gh.comments().len(), 150);
}

#[test]
fn an_oversized_plan_is_cut_to_fit_and_the_job_summary_gets_it_whole() {
    let gh = FakeGitHub::start();
    let ws = Workspace::new();
    plan_file(&ws, 30, 40, true);
    let summary = ws.path().join("summary.md");
    let out = {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfdeploy"));
        ws.write("event.json", r#"{"pull_request": {"number": 7}}"#);
        cmd.env_clear()
            .current_dir(ws.path())
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_API_URL", &gh.api)
            .env("GITHUB_EVENT_PATH", ws.path().join("event.json"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["comment", "--plan", "plan.json"]);
        run(&mut cmd)
    };
    assert_eq!(out.code, 0, "{}", out.stderr);
    let posted = &gh.comments()[0].1;
    assert!(
        posted.chars().count() <= 65_536,
        "{}",
        posted.chars().count()
    );
    assert!(
        posted.contains("Left out to fit GitHub's 65536-character comment limit"),
        "{}",
        &posted[posted.len() - 500..]
    );
    // The destructive stack comes first in the summary table and is marked.
    let first_row = posted.lines().find(|l| l.starts_with("| svc")).unwrap();
    assert!(
        first_row.starts_with("| svc00-prod |") && first_row.contains("⚠️"),
        "{first_row}"
    );
    assert_eq!(
        posted.matches("<details>").count() + posted.matches("<details open>").count(),
        posted.matches("</details>").count()
    );
    assert!(
        posted.contains("`svc00-prod`: replace")
            && posted.contains("`apply` refuses this stack (exit 3)"),
        "what apply will do with the destructive stack is said before the tables"
    );
    let whole = std::fs::read_to_string(&summary).unwrap();
    assert!(
        whole.chars().count() > 65_536 && !whole.contains("Left out"),
        "the job summary has the full plan"
    );
}

#[test]
fn api_errors_are_explained_and_the_plan_result_still_shows() {
    let cases: [(u16, &str, Headers, &str); 5] = [
        (
            401,
            r#"{"message": "Bad credentials"}"#,
            vec![],
            "GitHub rejected the token (401 Unauthorized)",
        ),
        (
            403,
            r#"{"message": "Resource not accessible by integration"}"#,
            vec![],
            "pull-requests: write",
        ),
        (
            404,
            r#"{"message": "Not Found"}"#,
            vec![],
            "repository o/r or pull request #7 does not exist",
        ),
        (
            422,
            r#"{"message": "Validation Failed"}"#,
            vec![],
            "GitHub rejected the comment (422 Unprocessable): Validation Failed",
        ),
        (
            403,
            r#"{"message": "API rate limit exceeded"}"#,
            vec![
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), "1790000000".into()),
            ],
            "rate limit is exhausted (resets at unix time 1790000000)",
        ),
    ];
    for (status, body, headers, expected) in cases {
        let gh = FakeGitHub::start();
        gh.state.lock().unwrap().fail = Some(Failure(status, body.to_string(), headers));
        let ws = Workspace::new();
        plan_file(&ws, 2, 3, false);
        let out = comment(&ws, &gh, &[]);
        assert_eq!(out.code, 1, "{status}");
        assert!(out.stderr.contains(expected), "{status}: {}", out.stderr);
        assert!(
            out.stderr.contains("the plan itself: 2 stacks to change"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn dry_run_prints_the_body_and_a_missing_token_is_named() {
    let gh = FakeGitHub::start();
    let ws = Workspace::new();
    plan_file(&ws, 1, 1, false);
    let out = comment(&ws, &gh, &["--dry-run"]);
    assert_eq!(out.code, 0);
    assert!(out
        .stdout
        .starts_with("<!-- cfdeploy-plan config=stacks -->"));
    assert!(gh.requests().is_empty(), "a dry run posts nothing");

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfdeploy"));
    cmd.env_clear()
        .current_dir(ws.path())
        .args(["comment", "--plan", "plan.json", "--pr", "7"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("GITHUB_TOKEN is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_pull_request_comes_from_the_event() {
    let gh = FakeGitHub::start();
    let ws = Workspace::new();
    plan_file(&ws, 1, 1, false);
    ws.write("event.json", r#"{"pull_request": {"number": 7}}"#);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(gh.requests()[0]
        .path
        .starts_with("/repos/o/r/issues/7/comments"));
    let parsed = parse(&std::fs::read_to_string(ws.path().join("plan.json")).unwrap());
    assert_eq!(parsed["kind"], "plan");
}

#[test]
fn an_error_body_that_quotes_the_token_never_shows_it() {
    let gh = FakeGitHub::start();
    let quoted = format!(
        r#"{{"message": "Validation Failed for request with Authorization: Bearer {TOKEN} and token {TOKEN}"}}"#
    );
    gh.state.lock().unwrap().fail = Some(Failure(422, quoted, vec![]));
    let ws = Workspace::new();
    plan_file(&ws, 1, 1, false);
    let out = comment(&ws, &gh, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("422"), "{}", out.stderr);
    assert!(!out.stderr.contains(TOKEN), "{}", out.stderr);
    assert!(
        !out.stderr.contains("TestTokenThatMustNeverShow"),
        "{}",
        out.stderr
    );
}

#[test]
fn with_dependencies_the_comment_shows_the_deploy_order_collapsed() {
    let gh = FakeGitHub::start();
    let ws = Workspace::new();
    plan_file(&ws, 2, 1, false);
    ws.write(
        "stacks/templates/t.yaml",
        "Resources:\n  Queue: {Type: AWS::SQS::Queue}\n",
    );
    ws.write(
        "stacks/fleet.yaml",
        "defaults:\n  template: templates/t.yaml\n  region: us-east-1\nstacks:\n  svc00-prod: {}\n  svc01-prod:\n    depends_on: [svc00-prod]\n",
    );
    let out = comment(&ws, &gh, &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("<details><summary>Deploy order</summary>\n\n```mermaid\ngraph TD\n")
            && out.stdout.contains("  svc00_prod --> svc01_prod\n"),
        "{}",
        out.stdout
    );

    // Without dependencies there is no picture to show.
    ws.write(
        "stacks/fleet.yaml",
        "defaults:\n  template: templates/t.yaml\n  region: us-east-1\nstacks:\n  svc00-prod: {}\n  svc01-prod: {}\n",
    );
    let out = comment(&ws, &gh, &["--dry-run"]);
    assert!(!out.stdout.contains("Deploy order"), "{}", out.stdout);
}
