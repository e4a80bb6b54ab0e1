//! The GitHub Action's scripts (action/install.sh, action/run.sh), run directly as the runner
//! would run them: against the emulator for run.sh, against a local "release" for install.sh.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{cfdeploy, json, unique, Emulator, Workspace};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("action")
        .join(name)
}

/// A runner's environment for the action's scripts in `ws`: the binary tests' environment (the
/// emulator, its credentials), with the script run instead of the binary.
fn runner(ws: &Workspace, name: &str) -> Command {
    let binary = cfdeploy(&Emulator::shared().endpoint, ws.path());
    let mut cmd = Command::new("bash");
    cmd.env_clear().current_dir(ws.path()).arg(script(name));
    for (k, v) in binary.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("CFDEPLOY_BIN", env!("CARGO_BIN_EXE_cfdeploy"))
        .env("GITHUB_OUTPUT", ws.path().join("github_output"))
        .env("GITHUB_STEP_SUMMARY", ws.path().join("summary.md"))
        .env("RUNNER_TEMP", ws.path().join("runner-temp"));
    cmd
}

fn outputs(ws: &Workspace) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(ws.path().join("github_output"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn plan_then_apply_set_the_outputs_and_the_job_summary() {
    let name = unique("act");
    let ws = Workspace::new();
    ws.fixture(
        "stacks/templates/service.yaml",
        "templates/queue-service.yaml",
    );
    ws.write(
        "stacks/fleet.yaml",
        &format!("stacks:\n  {name}:\n    template: templates/service.yaml\n    parameters: {{ServiceName: {name}, ApiToken: x}}\n"),
    );
    let out = runner(&ws, "run.sh")
        .env("CFDEPLOY_COMMAND", "plan")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a plan with changes succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = outputs(&ws);
    assert_eq!(o["exit-code"], "2");
    assert_eq!(o["result"], "changes");
    assert_eq!(o["plan-file"], "plan.json");
    assert_eq!(o["changed-stacks"], "1");
    let summary = std::fs::read_to_string(ws.path().join("summary.md")).unwrap();
    assert!(summary.contains(&name), "{summary}");

    std::fs::remove_file(ws.path().join("github_output")).unwrap();
    let out = runner(&ws, "run.sh")
        .env("CFDEPLOY_COMMAND", "apply")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = outputs(&ws);
    assert_eq!(o["exit-code"], "0");
    assert_eq!(o["result"], "ok");
    assert_eq!(o["changed-stacks"], "1");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(doc["stacks"][0]["result"], "created");
    let summary = std::fs::read_to_string(ws.path().join("summary.md")).unwrap();
    assert!(
        summary.contains(&format!("| {name} | created | CREATE_COMPLETE |")),
        "{summary}"
    );

    // An unknown command is a usage error, said as a workflow error.
    let out = runner(&ws, "run.sh")
        .env("CFDEPLOY_COMMAND", "deploy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("::error::"));
}

/// A release as the release workflow publishes it, under `root/download/TAG/`.
fn publish(root: &Path, tag: &str, triple: &str, tamper: bool) {
    let dir = root.join("download").join(tag);
    let stage = root.join("stage").join(format!("cfdeploy-{triple}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_cfdeploy"), stage.join("cfdeploy")).unwrap();
    let asset = dir.join(format!("cfdeploy-{triple}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&asset)
        .arg("-C")
        .arg(root.join("stage"))
        .arg(format!("cfdeploy-{triple}"))
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&asset).unwrap();
    let mut sha = cfdeploy_sha256(&bytes);
    if tamper {
        sha = "0".repeat(64);
    }
    std::fs::write(
        dir.join(format!("cfdeploy-{triple}.tar.gz.sha256")),
        format!("{sha}  cfdeploy-{triple}.tar.gz\n"),
    )
    .unwrap();
}

fn cfdeploy_sha256(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn install_verifies_the_release_checksum_and_refuses_a_mismatch() {
    if Command::new("sha256sum").arg("--version").output().is_err() {
        return; // the runner images have it; so does CI here
    }
    let ws = Workspace::new();
    let releases = ws.path().join("releases");
    let triple = "x86_64-unknown-linux-musl";
    publish(&releases, "v9.9.9", triple, false);
    let install = |tag: &str| {
        runner(&ws, "install.sh")
            .env("CFDEPLOY_VERSION", tag)
            .env(
                "CFDEPLOY_RELEASES",
                format!("file://{}", releases.display()),
            )
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_PATH", ws.path().join("github_path"))
            .output()
            .unwrap()
    };
    let out = install("v9.9.9");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256 verified"));
    let bin = ws.path().join("runner-temp/cfdeploy/bin");
    assert!(bin.join("cfdeploy").is_file());
    let path = std::fs::read_to_string(ws.path().join("github_path")).unwrap();
    assert_eq!(path.trim(), bin.display().to_string());

    std::fs::remove_dir_all(&releases).unwrap();
    publish(&releases, "v9.9.9", triple, true);
    std::fs::remove_file(bin.join("cfdeploy")).unwrap();
    let out = install("v9.9.9");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("::error::") && err.contains("does not match its published SHA-256"),
        "{err}"
    );
    assert!(!bin.join("cfdeploy").exists(), "nothing installed");
}
