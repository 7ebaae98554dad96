//! All SQL: the connection pool, PRAGMAs, migrations, and one function per query. Runs on blocking threads.

pub mod admins;
pub mod answers;
pub mod audit;
pub mod broadcasts;
pub mod caps;
pub mod channels;
pub mod checkpoint;
pub mod conversation;
pub mod drafts;
pub mod erased;
pub mod event_hooks;
pub mod group;
pub mod ledger;
pub mod maintenance;
pub mod open;
pub mod outbox;
pub mod outcome;
pub mod privacy;
pub mod quotas;
pub mod reports;
pub mod rooms;
pub mod sessions;
pub mod spare_keys;
pub mod sql;
pub mod subscribers;
pub mod team;
pub mod threads;
pub mod tokens;

use std::path::{Path, PathBuf};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use open::{DataPaths, open};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the disk is full; nothing was written")]
    DiskFull,
    #[error("the database is busy; try again")]
    Busy,
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(crate::domain::Problem),
    /// The input names something that is not there (a channel id in a request): refused, not a conflict.
    #[error("{0}")]
    Refused(crate::domain::Problem),
    /// The file to write already exists (backups); English, like the rest of the CLI.
    #[error("{0} already exists; choose a new file")]
    Exists(String),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("a storage task failed: {0}")]
    Task(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ if matches!(e, rusqlite::Error::QueryReturnedNoRows) => StoreError::NotFound,
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The two database files: the data, and the keyring attached to every connection as `keyring`.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    paths: DataPaths,
    _checkpoints: std::sync::Arc<checkpoint::Checkpointer>,
    /// The group-commit writer, started with the store on the thread that opens it: a thread takes
    /// its creator's CPU priority, and the writer is on every webhook's path, so it must not be
    /// started by a background thread (see `tuning::runtime`).
    group: std::sync::Arc<std::io::Result<group::GroupWriter>>,
}

impl Store {
    pub fn paths(&self) -> &DataPaths {
        &self.paths
    }

    /// A connection for synchronous callers (CLI commands, tests, benches).
    pub fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Hands a job to the group-commit writer (see [`group`]); the job is told how it ended.
    pub fn submit(&self, job: Box<dyn group::Job>) {
        match self.group.as_ref() {
            Ok(writer) => writer.submit(job),
            Err(e) => job.finish(Err(StoreError::Task(format!("the group writer did not start: {e}")))),
        }
    }

    /// Runs `f` in the group writer's next transaction, in a savepoint of its own (an error undoes
    /// `f`'s writes alone). For frequent writes beside the inbound path (the worker's rounds), so
    /// that one thread holds the write lock instead of several taking turns. `f` runs on the writer
    /// thread and must not wait for the store itself.
    pub async fn write_grouped<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (job, answer) = group::FnJob::new(f);
        self.submit(Box::new(job));
        answer.await.map_err(|_| StoreError::Task("the group writer dropped a job".into()))?
    }

    /// Runs `f` with a connection on a blocking thread; panics inside `f` come back as errors.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(if e.is_panic() { "a storage task panicked".into() } else { e.to_string() }))?
    }
}

/// While another connection writes: wait in short steps (0.2 ms, then 1 ms) for up to about 5 s.
/// SQLite's own busy timeout sleeps up to 100 ms at a time, which under many concurrent writers (a
/// burst of webhooks) starves some of them for a second and more.
fn wait_for_writer(attempt: i32) -> bool {
    if attempt >= 5_000 {
        return false;
    }
    std::thread::sleep(std::time::Duration::from_micros(if attempt < 50 { 200 } else { 1_000 }));
    true
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// Applied to every connection: WAL, a busy handler, foreign keys, and the keyring attached.
fn init_connection(conn: &mut Connection, keyring: &Path) -> rusqlite::Result<()> {
    conn.busy_handler(Some(wait_for_writer))?;
    // rusqlite keeps 16 prepared statements by default; one inbound message and the worker's round
    // use more than that on the group writer's connection, which then parsed them again each time.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans that do not depend on bound values: otherwise a `LIMIT ?1` bound to another number than
    // last time makes SQLite parse and plan the statement again (the worker's claims, each round).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    // No write waits for a checkpoint: the store's checkpointer thread copies the log back.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.execute("ATTACH DATABASE ?1 AS keyring", [keyring.to_string_lossy()])?;
    // A destroyed data key is overwritten with zeros, not just unlinked (crypto-shredding).
    conn.pragma_update(Some("keyring"), "secure_delete", true)?;
    // The keyring keeps SQLite's default `synchronous = FULL`: a new subscriber's key is on disk before
    // the rows sealed with it, even across a power cut. That fsync (17–87 ms on the test machine) is
    // kept off the inbound path by keys written ahead in batches (`service::key_stock`).
    Ok(())
}

/// Up to `size` connections, opened as they are needed: one stays open, the others close after a minute
/// unused (each holds its page cache and parsed schema; seven idle ones were 1.3 MB of an idle herold).
fn build_pool(main: PathBuf, keyring: PathBuf, size: u32) -> Result<Pool> {
    let manager = SqliteConnectionManager::file(main).with_init(move |c| init_connection(c, &keyring));
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .idle_timeout(Some(std::time::Duration::from_secs(60)))
        .build(manager)?)
}

/// Begins a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so that it waits
/// for other writers through the busy timeout instead of failing when a read would turn into a write.
pub fn write_tx(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// Runs `f` in a write transaction ([`write_tx`]) and commits it when `f` succeeds.
pub fn in_write_tx<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = write_tx(conn)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Begins a write transaction that locks the data file at once but the keyring only if it writes
/// there: a batch of spare keys being synced to the keyring does not hold it up.
pub fn write_tx_main(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Deferred)?;
    // A write that changes nothing still takes the data file's write lock, now rather than later.
    tx.prepare_cached("DELETE FROM main.meta WHERE 0")?.execute([])?;
    Ok(tx)
}

/// Reads one value from a `meta` table (`main` or `keyring`).
pub fn meta_get(conn: &Connection, schema: &str, key: &str) -> Result<Option<Vec<u8>>> {
    use rusqlite::OptionalExtension;
    let sql = format!("SELECT value FROM {schema}.meta WHERE key = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([key], |r| r.get(0)).optional()?)
}

pub fn meta_set(conn: &Connection, schema: &str, key: &str, value: &[u8]) -> Result<()> {
    let sql = format!(
        "INSERT INTO {schema}.meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    );
    conn.prepare_cached(&sql)?.execute(rusqlite::params![key, value])?;
    Ok(())
}
