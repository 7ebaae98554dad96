//! Integrity checks, online backups, and re-wrapping the keyring under a new master key.

use std::path::Path;

use rusqlite::{Connection, params};

use super::{Result, StoreError, meta_get, meta_set, write_tx};
use crate::crypto::Vault;
use crate::crypto::vault::{INDEX_SECRET_AAD, Kek};
use crate::domain::SubscriberId;

/// `PRAGMA integrity_check` on a schema; `Ok(vec![])` when healthy.
pub fn integrity(conn: &Connection, schema: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare(&format!("PRAGMA {schema}.integrity_check"))?;
    let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(if rows == ["ok"] { vec![] } else { rows })
}

/// `PRAGMA quick_check` on a schema (structure and pages, without the slower index cross-check);
/// `Ok(vec![])` when healthy. A file too damaged to read is an error.
pub fn quick_check(conn: &Connection, schema: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare(&format!("PRAGMA {schema}.quick_check(5)"))?;
    let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(if rows == ["ok"] { vec![] } else { rows })
}

/// Frees the pages this connection keeps cached (`sqlite3_db_release_memory`), after a scan of the
/// whole file that would otherwise stay in memory for the connection's life.
pub fn release_cache(conn: &Connection) -> Result<()> {
    Ok(conn.release_memory()?)
}

/// Copies one schema (`main` or `keyring`) to `dest` with SQLite's online backup, while others keep
/// writing. The file is created readable by its owner only (mode 0600, whatever the umask) and is
/// one self-contained file: in rollback-journal mode, so reading it later leaves no `-wal`/`-shm`.
pub fn backup(conn: &Connection, schema: &str, dest: &Path) -> Result<()> {
    private_new_file(dest)?;
    let name = match schema {
        "main" => rusqlite::MAIN_DB,
        _ => c"keyring",
    };
    conn.backup(name, dest, None)?;
    let copy = Connection::open(dest)?;
    copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(())
}

/// Creates an empty file only its owner may read (a backup, an erasure list beside it); an existing
/// file is an error, never overwritten.
pub fn private_new_file(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => StoreError::Exists(path.display().to_string()),
        std::io::ErrorKind::StorageFull => StoreError::DiskFull,
        _ => StoreError::Task(format!("creating {}: {e}", path.display())),
    })
}

/// Runs `read` on a file someone else owns (a backup being restored) and removes the `-wal`/`-shm`
/// files that reading it made beside it.
pub fn leaving_no_trace<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    let side = |ext: &str| std::path::PathBuf::from(format!("{}{ext}", path.display()));
    let before: Vec<bool> = ["-wal", "-shm"].iter().map(|e| side(e).exists()).collect();
    let out = read();
    for (ext, was) in ["-wal", "-shm"].iter().zip(before) {
        if !was {
            let _ = std::fs::remove_file(side(ext));
        }
    }
    out
}

/// Re-wraps every data key and the blind-index secret under `new`, then updates both key-check values.
/// The keyring changes in one transaction; the data file's check value follows.
pub fn rotate(conn: &mut Connection, vault: &Vault, new: &Kek) -> Result<usize> {
    let tx = write_tx(conn)?;
    let keys = super::subscribers::all_wrapped_keys(&tx)?;
    {
        let mut st = tx.prepare("UPDATE keyring.data_keys SET wrapped = ?2 WHERE subscriber_id = ?1")?;
        for (id, wrapped) in &keys {
            st.execute(params![id, vault.rewrap_data_key(SubscriberId(*id), wrapped, new)?])?;
        }
    }
    let wrapped_index = meta_get(&tx, "keyring", "index_secret")?
        .ok_or_else(|| StoreError::Corrupt("the keyring has no blind-index secret".into()))?;
    let secret = vault.kek().unwrap(&wrapped_index, INDEX_SECRET_AAD)?;
    meta_set(&tx, "keyring", "index_secret", &new.wrap(&secret, INDEX_SECRET_AAD))?;
    meta_set(&tx, "keyring", "key_check", &new.check_value())?;
    meta_set(&tx, "main", "key_check", &new.check_value())?;
    tx.commit()?;
    Ok(keys.len())
}

/// Writes everything in the WAL files back into the database files.
pub fn checkpoint(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA main.wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.query_row("PRAGMA keyring.wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Checks a database file on its own (a backup, before it is restored): the problems
/// `integrity_check` finds (none when healthy) and its schema version.
pub fn check_file(path: &Path) -> Result<(Vec<String>, i64)> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((integrity(&conn, "main")?, version))
}

/// Copies a database file to `dest` (replaced if it exists) with SQLite's backup API.
pub fn copy_file(src: &Path, dest: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.backup(rusqlite::MAIN_DB, dest, None)?;
    Ok(())
}

/// Subscribers whose data key is missing from the keyring (their data can never be opened again).
pub fn keyless_subscribers(conn: &Connection) -> Result<Vec<i64>> {
    let mut st = conn.prepare(
        "SELECT id FROM subscribers s WHERE NOT EXISTS (SELECT 1 FROM keyring.data_keys k WHERE k.subscriber_id = s.id)",
    )?;
    Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}
