//! Shared test support: the local CloudFormation emulator (one per test binary), the cfdeploy
//! binary with a scrubbed environment, and a minimal HTTP client for acting as "another tool".

#![allow(dead_code)]

pub mod replay;
pub mod terminal;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Emulator {
    pub endpoint: String,
    // Held open for the life of the test binary: the emulator exits when its stdin closes.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

impl Emulator {
    /// The emulator shared by every test of this binary, started on first use.
    pub fn shared() -> &'static Emulator {
        static EMULATOR: OnceLock<Emulator> = OnceLock::new();
        EMULATOR.get_or_init(Emulator::start)
    }

    fn start() -> Emulator {
        let script = project_root().join("scripts/emulator");
        let mut child = Command::new(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the emulator's endpoint");
        let endpoint = line
            .trim()
            .strip_prefix("CFDEPLOY_EMULATOR_ENDPOINT=")
            .unwrap_or_else(|| panic!("the emulator printed {line:?} instead of its endpoint"))
            .to_string();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        let stdin = child.stdin.take().expect("piped stdin");
        Emulator {
            endpoint,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    }

    /// Calls the CloudFormation query API directly (moto does not check signatures).
    pub fn call(&self, params: &[(&str, &str)]) -> (u16, String) {
        let mut body = String::from("Version=2010-05-15");
        for (k, v) in params {
            body.push('&');
            body.push_str(k);
            body.push('=');
            body.push_str(&url_encode(v));
        }
        // moto picks the service from the credential scope of the (unchecked) signature.
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0";
        http_with(
            &self.endpoint,
            "POST",
            "/",
            "application/x-www-form-urlencoded",
            &body,
            Some(auth),
        )
    }

    /// Calls the Step Functions JSON API directly (`action`: `CreateStateMachine`, ...).
    pub fn sfn(&self, action: &str, json: &str) -> (u16, String) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0\r\nX-Amz-Target: AWSStepFunctions.{action}"
        );
        http_with(
            &self.endpoint,
            "POST",
            "/",
            "application/x-amz-json-1.0",
            json,
            Some(&auth),
        )
    }

    /// Posts JSON to the emulator's control endpoint (`/_emulator/...`).
    pub fn control(&self, method: &str, path: &str, json: &str) -> String {
        let (status, body) = http(&self.endpoint, method, path, "application/json", json);
        assert_eq!(status, 200, "control {method} {path}: {body}");
        body
    }

    /// Creates an S3 bucket in the emulator (for template uploads).
    pub fn create_bucket(&self, bucket: &str) {
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
        let (status, body) = http_with(
            &self.endpoint,
            "PUT",
            &format!("/{bucket}"),
            "application/xml",
            "",
            Some(auth),
        );
        assert_eq!(status, 200, "CreateBucket {bucket}: {body}");
    }

    /// An object's body from the emulator's S3, if it exists.
    pub fn s3_object(&self, bucket: &str, key: &str) -> Option<String> {
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
        let (status, body) = http_with(
            &self.endpoint,
            "GET",
            &format!("/{bucket}/{key}"),
            "text/plain",
            "",
            Some(auth),
        );
        (status == 200).then_some(body)
    }

    /// The stack's status; `None` only when CloudFormation says the stack does not exist. Any
    /// other answer fails the test.
    pub fn stack_status(&self, stack: &str) -> Option<String> {
        let (status, body) = self.call(&[("Action", "DescribeStacks"), ("StackName", stack)]);
        if status == 400 && body.contains("does not exist") {
            return None;
        }
        assert_eq!(status, 200, "DescribeStacks {stack}: {body}");
        Some(xml_value(&body, "StackStatus").unwrap_or_else(|| panic!("no StackStatus in {body}")))
    }

    /// Executes a change set as another tool would, and waits until the stack settles.
    pub fn execute_and_wait(&self, arn: &str, stack: &str) -> String {
        let (status, body) = self.call(&[("Action", "ExecuteChangeSet"), ("ChangeSetName", arn)]);
        assert_eq!(status, 200, "ExecuteChangeSet: {body}");
        self.wait_settled(stack)
    }

    pub fn wait_settled(&self, stack: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.stack_status(stack).unwrap_or_default();
            if !status.ends_with("_IN_PROGRESS") || status == "REVIEW_IN_PROGRESS" {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{stack} still {status} after 60s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The stack's change sets that still exist; 0 when the stack itself is gone. Any other
    /// answer fails the test.
    pub fn change_set_count(&self, stack: &str) -> usize {
        let (status, body) = self.call(&[("Action", "ListChangeSets"), ("StackName", stack)]);
        if status == 400 && body.contains("does not exist") {
            return 0;
        }
        assert_eq!(status, 200, "ListChangeSets {stack}: {body}");
        body.matches("<ChangeSetId>").count()
    }
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A unique prefix for stack names, so tests sharing one emulator never see each other's stacks.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// The cfdeploy binary with only what the test sets in its environment.
pub fn cfdeploy(endpoint: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfdeploy"));
    cmd.env_clear()
        .current_dir(dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", empty_file(dir, ".aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            empty_file(dir, ".aws-credentials"),
        )
        .env("NO_COLOR", "1");
    cmd
}

fn empty_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    if !path.exists() {
        std::fs::write(&path, "").expect("write an empty AWS config file");
    }
    path
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("running cfdeploy");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs the command, failing the test (instead of hanging it) if it has not returned within
/// `limit`: for commands that used to wait forever.
pub fn run_or_hang(cmd: &mut Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running cfdeploy");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("waiting for cfdeploy").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "cfdeploy did not return within {limit:?}: it waits on something that never ends"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child
        .wait_with_output()
        .expect("collecting cfdeploy's output");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A folder with a stack config and its templates.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        self
    }

    pub fn fixture(&self, rel: &str, fixture: &str) -> &Self {
        let text = std::fs::read_to_string(project_root().join("fixtures").join(fixture))
            .unwrap_or_else(|e| panic!("fixture {fixture}: {e}"));
        self.write(rel, &text)
    }
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn xml_value(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_string())
}

pub fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    http_with(endpoint, method, path, content_type, body, None)
}

fn http_with(
    endpoint: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
    authorization: Option<&str>,
) -> (u16, String) {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to the emulator");
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    // Bodies may be binary (a zip from S3): read bytes, keep what is text.
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("receive");
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
