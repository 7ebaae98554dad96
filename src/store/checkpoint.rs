//! Copies the write-ahead log back into the database files on a thread of its own, once a second,
//! instead of at the end of whichever write happens to cross SQLite's threshold: a large commit (a
//! broadcast of a million rows) or a webhook then never waits for a checkpoint.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the log is copied back.
const EVERY: Duration = Duration::from_secs(1);

/// Stops its thread (after a last checkpoint) when dropped, that is when the last `Store` goes.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `main` and its attached keyring.
    pub fn start(main: &Path, keyring: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(main)?;
        conn.execute("ATTACH DATABASE ?1 AS keyring", [keyring.to_string_lossy()])?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("herold-checkpoint".into())
            .spawn(move || {
                loop {
                    let last = matches!(stopped.recv_timeout(EVERY), Err(mpsc::RecvTimeoutError::Disconnected));
                    // PASSIVE: copies what no reader still needs and never waits for anyone.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::debug!(error = %e, "a checkpoint did not run; the next one will");
                    }
                    if last {
                        return;
                    }
                }
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    /// Waits for the last checkpoint, so that the thread's connection is closed before the process
    /// ends and the last connection to close can fold the log back and remove it.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_copied_back_without_a_write_crossing_the_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let (main, keyring) = (dir.path().join("main.sqlite"), dir.path().join("keyring.sqlite"));
        for p in [&main, &keyring] {
            let c = Connection::open(p).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
        }
        let c = Connection::open(&main).unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        c.execute_batch("CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES (randomblob(100000))").unwrap();
        let size = || std::fs::metadata(&main).unwrap().len();
        let before = size();
        let _cp = Checkpointer::start(&main, &keyring).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while size() <= before {
            assert!(std::time::Instant::now() < until, "the database file did not grow from the log");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(size() >= 100_000);
    }
}
