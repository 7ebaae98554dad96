//! Group commit: writes that arrive together (a burst of webhooks) are written by one thread in one
//! transaction, each in a savepoint of its own, so that a hundred opt-ins cost one commit instead of a
//! hundred, and none waits for the others' locks. A failing job undoes only its own savepoint.
//!
//! Keyring first: data keys a group needs are committed before the rows that use them (SQLite commits
//! the main file before an attached one, so the two cannot share a transaction without risking a
//! subscriber whose key was lost in a crash).

use std::sync::mpsc;

use rusqlite::Connection;

use super::{Conn, Pool, Result, StoreError, write_tx, write_tx_main};

/// Jobs taken into one transaction at most.
const MAX_GROUP: usize = 256;

/// How long the writer keeps its connection without work.
const KEEP_CONNECTION: std::time::Duration = std::time::Duration::from_secs(60);

/// One write in a group.
pub trait Job: Send {
    /// Keyring writes the job needs (new data keys), committed for the whole group before [`Job::write`].
    fn keys(&mut self, _c: &Connection) -> Result<()> {
        Ok(())
    }
    /// The job's writes, inside the group's transaction; an error undoes this job's writes alone.
    fn write(&mut self, c: &Connection) -> Result<()>;
    /// Data keys written by [`Job::keys`] that ended up unused (`written`: the job's writes are
    /// committed); the group removes them.
    fn unused_keys(&self, _written: bool) -> Vec<i64> {
        Vec::new()
    }
    /// Told how it ended: `Ok` once its writes are committed.
    fn finish(self: Box<Self>, result: Result<()>);
}

/// A closure as a job: its value (or error) goes back through a channel.
pub struct FnJob<T, F> {
    f: Option<F>,
    value: Option<T>,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> FnJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    pub fn new(f: F) -> (Self, tokio::sync::oneshot::Receiver<Result<T>>) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        (Self { f: Some(f), value: None, reply }, answer)
    }
}

impl<T, F> Job for FnJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn write(&mut self, c: &Connection) -> Result<()> {
        let f = self.f.take().ok_or_else(|| StoreError::Task("a job ran twice".into()))?;
        self.value = Some(f(c)?);
        Ok(())
    }
    fn finish(self: Box<Self>, result: Result<()>) {
        let FnJob { value, reply, .. } = *self;
        let _ = reply.send(result.and_then(|()| value.ok_or_else(|| StoreError::Task("no value".into()))));
    }
}

/// The sending half; dropping it ends the writing thread and waits for it.
pub struct GroupWriter {
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GroupWriter {
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let thread = std::thread::Builder::new().name("herold-group-commit".into()).spawn(move || {
            // The writer keeps one connection while work comes, so that its prepared statements and
            // page cache stay warm; after a minute without work it goes back to the pool.
            let mut held: Option<Conn> = None;
            loop {
                let first = match queue.recv_timeout(KEEP_CONNECTION) {
                    Ok(job) => job,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        release(held.take());
                        match queue.recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match queue.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let conn = match held.take().map(Ok).unwrap_or_else(|| acquire(&pool)) {
                    Ok(conn) => held.insert(conn),
                    Err(e) => {
                        let message = e.to_string();
                        group.into_iter().for_each(|j| j.finish(Err(StoreError::Task(message.clone()))));
                        continue;
                    }
                };
                // A panicking job must not end the thread (every later write would fail): its group is
                // rolled back, its callers get an error when their answers drop, and the connection
                // goes back to the pool.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(conn, group))).is_err() {
                    tracing::error!("a group of writes panicked and was rolled back");
                    release(held.take());
                }
            }
            release(held);
        })?;
        Ok(Self { jobs: Some(jobs), thread: Some(thread) })
    }

    /// Queues a job; it is finished (with an error) at once if the writing thread is gone.
    pub fn submit(&self, job: Box<dyn Job>) {
        let sent = match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|mpsc::SendError(job)| job),
            None => Err(job),
        };
        if let Err(job) = sent {
            job.finish(Err(StoreError::Task("the group writer has stopped".into())));
        }
    }
}

impl Drop for GroupWriter {
    /// Ends the thread and waits for it: it holds the pool too, and the pool's connections must be
    /// closed before the process ends, so that the last one to close folds the log back and removes
    /// it (a command that exits while the thread still holds the pool leaves `*-wal` files behind).
    /// Not when the last store is dropped by a job on the thread itself; it ends after that group.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// The same failure for every job of a group (the kinds that decide a 503 are kept).
fn shared(e: &StoreError) -> StoreError {
    match e {
        StoreError::DiskFull => StoreError::DiskFull,
        StoreError::Busy => StoreError::Busy,
        other => StoreError::Task(other.to_string()),
    }
}

/// A connection for the writer: a savepoint keeps the pages it changes in a sub-journal, which SQLite
/// spills to a temporary file past 64 KiB, created and unlinked per message; in memory here, where a
/// group's pages are few.
fn acquire(pool: &Pool) -> Result<Conn> {
    let conn = pool.get()?;
    if let Err(e) = conn.pragma_update(None, "temp_store", "MEMORY") {
        tracing::debug!(error = %e, "temp_store unchanged");
    }
    Ok(conn)
}

/// Back to the pool, with temporary files again for the connection's other users (the large sorts of
/// a broadcast's fan-out).
fn release(conn: Option<Conn>) {
    if let Some(conn) = conn
        && let Err(e) = conn.pragma_update(None, "temp_store", "DEFAULT")
    {
        tracing::debug!(error = %e, "temp_store unchanged");
    }
}

/// Writes one group: keys (one transaction), then every job in its savepoint (one transaction), then
/// removes keys left unused, then tells each job how it ended.
fn run(conn: &mut Connection, group: Vec<Box<dyn Job>>) {
    let mut jobs: Vec<(Box<dyn Job>, Result<()>)> = group.into_iter().map(|j| (j, Ok(()))).collect();
    // Keys: deferred, so a group that writes none takes no lock (and waits for no keyring sync).
    let keys = each(conn, &mut jobs, Connection::unchecked_transaction, |j, c| j.keys(c));
    let main = match keys {
        Ok(()) => each(conn, &mut jobs, write_tx_main, |j, c| j.write(c)),
        Err(e) => Err(e),
    };
    if let Err(e) = &main {
        for (_, r) in jobs.iter_mut().filter(|(_, r)| r.is_ok()) {
            *r = Err(shared(e));
        }
    }
    let unused: Vec<i64> = jobs.iter().flat_map(|(j, r)| j.unused_keys(r.is_ok())).collect();
    if !unused.is_empty()
        && let Err(e) = delete_keys(conn, &unused)
    {
        // Harmless: a wrapped key for an id no row uses; the next group or `herold verify` sees it.
        tracing::warn!(error = %e, keys = unused.len(), "unused data keys could not be removed");
    }
    for (job, result) in jobs {
        job.finish(result);
    }
}

/// Runs `step` for every job still fine, each in a savepoint, in one transaction. A job's error stays
/// with the job; a failure of the transaction itself is returned.
fn each(
    conn: &mut Connection,
    jobs: &mut [(Box<dyn Job>, Result<()>)],
    begin: impl Fn(&Connection) -> rusqlite::Result<rusqlite::Transaction<'_>>,
    step: impl Fn(&mut Box<dyn Job>, &Connection) -> Result<()>,
) -> Result<()> {
    let mut tx = begin(conn)?;
    for (job, result) in jobs.iter_mut().filter(|(_, r)| r.is_ok()) {
        let sp = tx.savepoint()?;
        match step(job, &sp) {
            Ok(()) => sp.commit()?,
            // Dropping the savepoint rolls it back.
            Err(e) => *result = Err(e),
        }
    }
    tx.commit()?;
    Ok(())
}

fn delete_keys(conn: &mut Connection, ids: &[i64]) -> Result<()> {
    let tx = write_tx(conn)?;
    super::subscribers::delete_keys(&tx, ids)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Insert {
        value: i64,
        fail: bool,
        done: Arc<Mutex<Vec<(i64, bool)>>>,
    }

    impl Job for Insert {
        fn write(&mut self, c: &Connection) -> Result<()> {
            c.execute("INSERT INTO t VALUES (?1)", [self.value])?;
            if self.fail {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        fn finish(self: Box<Self>, result: Result<()>) {
            self.done.lock().unwrap().push((self.value, result.is_ok()));
        }
    }

    #[test]
    fn a_failing_job_undoes_only_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (main, keyring) = (dir.path().join("m.sqlite"), dir.path().join("k.sqlite"));
        let manager = r2d2_sqlite::SqliteConnectionManager::file(&main).with_init(move |c| {
            c.execute("ATTACH DATABASE ?1 AS keyring", [keyring.to_string_lossy()])?;
            c.execute_batch("CREATE TABLE IF NOT EXISTS keyring.data_keys(subscriber_id, wrapped)")
        });
        let pool = r2d2::Pool::builder().max_size(2).build(manager).unwrap();
        pool.get().unwrap().execute_batch("CREATE TABLE t(v); CREATE TABLE meta(key, value)").unwrap();
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut conn = pool.get().unwrap();
        let jobs: Vec<Box<dyn Job>> =
            (1..=3).map(|v| Box::new(Insert { value: v, fail: v == 2, done: done.clone() }) as Box<dyn Job>).collect();
        run(&mut conn, jobs);
        let kept: Vec<i64> = conn
            .prepare("SELECT v FROM t ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(kept, vec![1, 3]);
        assert_eq!(*done.lock().unwrap(), vec![(1, true), (2, false), (3, true)]);

        // Through the thread: every submitted job is finished.
        drop(conn);
        let writer = GroupWriter::start(pool.clone()).unwrap();
        let (tx, rx) = mpsc::channel();
        struct Tell(i64, mpsc::Sender<bool>);
        impl Job for Tell {
            fn write(&mut self, c: &Connection) -> Result<()> {
                c.execute("INSERT INTO t VALUES (?1)", [self.0])?;
                Ok(())
            }
            fn finish(self: Box<Self>, result: Result<()>) {
                self.1.send(result.is_ok()).unwrap();
            }
        }
        for v in 10..110 {
            writer.submit(Box::new(Tell(v, tx.clone())));
        }
        assert!((0..100).all(|_| rx.recv().unwrap()));
        let n: i64 = pool.get().unwrap().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 102);

        // A closure job gives its value back; a panicking one is rolled back and the thread goes on.
        let (job, answer) = FnJob::new(|c: &Connection| {
            c.execute("INSERT INTO t VALUES (200)", [])?;
            Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?)
        });
        writer.submit(Box::new(job));
        assert_eq!(answer.blocking_recv().unwrap().unwrap(), 103);
        let (job, answer) = FnJob::new(|c: &Connection| -> Result<()> {
            c.execute("INSERT INTO t VALUES (300)", [])?;
            panic!("a bug in a job");
        });
        writer.submit(Box::new(job));
        assert!(answer.blocking_recv().is_err(), "the caller learns that its job was dropped");
        writer.submit(Box::new(Tell(400, tx.clone())));
        assert!(rx.recv().unwrap(), "the writer still writes after a panic");
        let kept: Vec<i64> = pool
            .get()
            .unwrap()
            .prepare("SELECT v FROM t WHERE v >= 200 ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(kept, vec![200, 400], "the panicking job's row was rolled back");
    }
}
