//! Ctrl-C and SIGTERM as interrupt levels shared by every task of a run: 0 none, 1 the first
//! (start nothing new, cancel updates in progress, keep waiting), 2 the second (stop waiting).

use tokio::sync::watch;

/// How far a Ctrl-C / SIGTERM has gone.
pub type Interrupt = watch::Receiver<u8>;

/// Listens for interrupts until the run ends, and says on stderr what each one does.
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
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate => {}
            }
            let level = tx.borrow().saturating_add(1);
            if level == 1 {
                eprintln!("interrupted: starting no new stacks, cancelling updates in progress and waiting for them to roll back (creates are left to CloudFormation); interrupt again to stop waiting");
            } else {
                eprintln!("interrupted again: not waiting any more");
            }
            if tx.send(level).is_err() || level >= 2 {
                break;
            }
        }
    });
    rx
}

/// Interrupt levels set by hand, for tests.
#[cfg(test)]
pub fn manual() -> (watch::Sender<u8>, Interrupt) {
    watch::channel(0u8)
}
