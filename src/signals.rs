//! Ctrl-C and SIGTERM, listened to from the first instruction of every command, as interrupt
//! levels shared by every task of the run: 0 none; 1 the first (start nothing new, cancel updates
//! in progress, clean up, report every stack); the second exits at once, even while a call hangs,
//! after one line naming what may still be running in CloudFormation.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

/// How far a Ctrl-C / SIGTERM has gone.
pub type Interrupt = watch::Receiver<u8>;

/// The signal that interrupted the run, for its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT): exit 130.
    Interrupt,
    /// SIGTERM (a cancelled CI job): exit 143.
    Terminate,
}

static FIRST: AtomicU8 = AtomicU8::new(0);

/// Stacks whose operation this run started or attached to and has not seen end.
static RUNNING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The first signal received, if any.
pub fn received() -> Option<Signal> {
    match FIRST.load(Ordering::SeqCst) {
        1 => Some(Signal::Interrupt),
        2 => Some(Signal::Terminate),
        _ => None,
    }
}

/// An operation on `stack` is running (named if the run must exit before it ends).
pub fn running(stack: &str) {
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(stack.to_string());
}

/// The operation on `stack` ended (or was never started).
pub fn settled(stack: &str) {
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(stack);
}

fn say(line: &str) {
    // A closed stderr must not stop the interrupt from working.
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        crate::logging::stderr_line("WARN", line)
    );
}

/// What the second interrupt says before exiting.
fn last_words() -> String {
    let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if running.is_empty() {
        return "interrupted again: exiting now".to_string();
    }
    let names: Vec<&str> = running.iter().map(String::as_str).collect();
    format!(
        "interrupted again: exiting now; still running in CloudFormation: {} — `cfdeploy events STACK` shows each, and `cfdeploy apply` with the same plan attaches to it",
        names.join(", ")
    )
}

/// Listens for interrupts until the process ends, and says on stderr what each one does. Call
/// it once, at the start of the run, inside the runtime.
pub fn listen() -> Interrupt {
    let (tx, rx) = watch::channel(0u8);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminate = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            let signal = tokio::select! {
                _ = tokio::signal::ctrl_c() => Signal::Interrupt,
                _ = terminate => Signal::Terminate,
            };
            let _ = FIRST.compare_exchange(
                0,
                if signal == Signal::Interrupt { 1 } else { 2 },
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
            let level = tx.borrow().saturating_add(1);
            if level == 1 && DETACH.load(Ordering::SeqCst) {
                say("interrupted: detaching; the rollout goes on in Step Functions");
                let _ = tx.send(level);
            } else if level == 1 {
                say("interrupted: starting nothing new, cancelling updates in progress and cleaning up what this run created; interrupt again to exit at once");
                let _ = tx.send(level);
            } else {
                say(&last_words());
                std::process::exit(match received() {
                    Some(Signal::Terminate) => 143,
                    _ => 130,
                });
            }
        }
    });
    rx
}

/// Whether the first interrupt detaches from a rollout another engine runs (nothing to cancel
/// or clean up here).
static DETACH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on the first interrupt detaches (the Step Functions engine): it is said so.
pub fn detach_on_interrupt() {
    DETACH.store(true, Ordering::SeqCst);
}

/// Interrupt levels set by hand, for tests.
#[cfg(test)]
pub fn manual() -> (watch::Sender<u8>, Interrupt) {
    watch::channel(0u8)
}
