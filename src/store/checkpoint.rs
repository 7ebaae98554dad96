//! Copies the write-ahead log back into the database files on a thread of its own, once a second,
//! instead of at the end of whichever write happens to cross SQLite's threshold: a large commit (a
//! broadcast of a million rows) or a webhook then never waits for a checkpoint.
//!
//! Under a steady stream of writes SQLite never starts the log over by itself (a writer restarts it
//! only if nothing was committed since the last complete checkpoint), so it grew by about 250 MB a
//! second in the inbound benchmark and every checkpoint copied more. Past [`RESTART_FRAMES`] the
//! thread catches up in a few passes that block nobody, each copying what came in during the last,
//! and then restarts the log, which holds writers only for the last few frames. When nothing has
//! been written for a second the log file is truncated, giving the disk space back.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the log is copied back.
const EVERY: Duration = Duration::from_secs(1);
/// Log frames (pages of 4 KiB) past which the log is started over: 64 MiB.
const RESTART_FRAMES: i64 = 16_384;
/// Catch-up passes before a restart.
const PASSES: usize = 3;
/// How long a restart waits for a writer or reader to finish before it gives up until next time.
const RESTART_WAIT: Duration = Duration::from_millis(50);

/// Stops its thread (after a last checkpoint) when dropped, that is when the last `Store` goes.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `main` and its attached keyring.
    pub fn start(main: &Path, keyring: &Path) -> rusqlite::Result<Self> {
        Self::start_with(main, keyring, RESTART_FRAMES)
    }

    fn start_with(main: &Path, keyring: &Path, restart_frames: i64) -> rusqlite::Result<Self> {
        let conn = Connection::open(main)?;
        conn.execute("ATTACH DATABASE ?1 AS keyring", [keyring.to_string_lossy()])?;
        conn.busy_timeout(RESTART_WAIT)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("herold-checkpoint".into())
            .spawn(move || {
                let mut last_log = 0;
                loop {
                    let last = matches!(stopped.recv_timeout(EVERY), Err(mpsc::RecvTimeoutError::Disconnected));
                    match tick(&conn, last_log, restart_frames) {
                        Ok(log) => last_log = log,
                        Err(e) => tracing::debug!(error = %e, "a checkpoint did not run; the next one will"),
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

/// One checkpoint of both files; returns the main log's length in frames.
fn tick(conn: &Connection, last_log: i64, restart_frames: i64) -> rusqlite::Result<i64> {
    checkpoint(conn, "keyring", "PASSIVE")?;
    // PASSIVE: copies what no reader still needs and never waits for anyone.
    let (_, log, _) = checkpoint(conn, "main", "PASSIVE")?;
    if log > 0 && log == last_log {
        // Nothing written for a second: start the file over at zero bytes.
        checkpoint(conn, "main", "TRUNCATE")?;
        return Ok(0);
    }
    if log > restart_frames {
        for _ in 0..PASSES {
            checkpoint(conn, "main", "PASSIVE")?;
        }
        let (busy, ..) = checkpoint(conn, "main", "RESTART")?;
        tracing::debug!(frames = log, restarted = busy == 0, "write-ahead log started over");
    }
    Ok(log)
}

/// `PRAGMA <schema>.wal_checkpoint(<mode>)`: (blocked, frames in the log, frames copied).
fn checkpoint(conn: &Connection, schema: &str, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA {schema}.wal_checkpoint({mode})"), [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
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

    /// A data file and a keyring in WAL mode, and a connection to the data that never checkpoints.
    fn wal_files() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let (main, keyring) = (dir.path().join("main.sqlite"), dir.path().join("keyring.sqlite"));
        for p in [&main, &keyring] {
            let c = Connection::open(p).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
        }
        let c = Connection::open(&main).unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        (dir, main, keyring, c)
    }

    #[test]
    fn the_log_is_copied_back_without_a_write_crossing_the_threshold() {
        let (_dir, main, keyring, c) = wal_files();
        c.execute_batch("CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES (randomblob(100000))").unwrap();
        let size = || std::fs::metadata(&main).unwrap().len();
        assert!(size() < 100_000, "the row is only in the log so far");
        let _cp = Checkpointer::start(&main, &keyring).unwrap();
        // Waits for the whole row: a checkpoint writes its pages one by one, so the file can be seen
        // part grown (this test once failed by asserting the size at the first growth).
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while size() < 100_000 {
            assert!(std::time::Instant::now() < until, "the database file did not take the row from the log");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A writer that never pauses for long (as during a burst of webhooks): the log is started over
    /// instead of growing with everything written, and truncated once writing stops.
    #[test]
    fn under_steady_writes_the_log_starts_over_and_is_truncated_when_they_stop() {
        let (dir, main, keyring, c) = wal_files();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c.execute_batch("CREATE TABLE t(x)").unwrap();
        let _cp = Checkpointer::start_with(&main, &keyring, 256).unwrap();
        let wal = dir.path().join("main.sqlite-wal");
        let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let (mut written, mut largest) = (0u64, 0u64);
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < until {
            c.execute("INSERT INTO t VALUES (randomblob(8000))", []).unwrap();
            written += 8000;
            largest = largest.max(wal_size());
            std::thread::sleep(Duration::from_micros(300));
        }
        assert!(written > 20_000_000, "the writer wrote {written} bytes");
        // Without restarts the log holds everything written and more (each row is three pages, 12 KiB);
        // started over once a second it holds about a second of it.
        assert!(largest < written, "the log grew to {largest} bytes of {written} written");
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while wal_size() > 0 {
            assert!(std::time::Instant::now() < until, "the log was not truncated when writing stopped");
            std::thread::sleep(Duration::from_millis(50));
        }
        let n: i64 = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n as u64 * 8000, written, "every row is there");
    }
}
