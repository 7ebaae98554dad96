//! Operations: verify (integrity and hash chain), backups, key rotation, and the dashboard totals.

use std::path::Path;

use serde::Serialize;

use super::{Result, Service, ServiceError};
use crate::crypto::MasterKey;
use crate::crypto::vault::Kek;
use crate::store::{DataPaths, maintenance, meta_get, meta_set, open, outbox};

/// What `herold verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub main_integrity: Vec<String>,
    pub keyring_integrity: Vec<String>,
    pub ledger_events: u64,
    pub ledger_error: Option<String>,
    pub audit_events: u64,
    pub audit_error: Option<String>,
    /// Subscriber totals kept per channel that differ from a recount.
    pub totals_mismatches: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.main_integrity.is_empty()
            && self.keyring_integrity.is_empty()
            && self.ledger_error.is_none()
            && self.audit_error.is_none()
            && self.totals_mismatches.is_empty()
    }
}

/// Checks both files and the chains of the consent ledger and the audit log; needs no master key.
pub fn verify(paths: &DataPaths) -> Result<VerifyReport> {
    let conn = open::open_read_only(paths).map_err(|e| ServiceError::Unavailable(e.to_string()))?;
    let main_integrity = maintenance::integrity(&conn, "main")?;
    let keyring_integrity = maintenance::integrity(&conn, "keyring")?;
    let (ledger_events, ledger_error) = match crate::store::ledger::verify(&conn) {
        Ok(Ok(n)) => (n, None),
        Ok(Err(e)) => (0, Some(e.to_string())),
        Err(e) => (0, Some(format!("the ledger cannot be read: {e}"))),
    };
    let (audit_events, audit_error) = match crate::store::audit::verify(&conn) {
        Ok(Ok(n)) => (n, None),
        Ok(Err(e)) => (0, Some(e.to_string())),
        Err(e) => (0, Some(format!("the audit log cannot be read: {e}"))),
    };
    let totals_mismatches = crate::store::channels::totals_mismatches(&conn)?;
    Ok(VerifyReport {
        main_integrity,
        keyring_integrity,
        ledger_events,
        ledger_error,
        audit_events,
        audit_error,
        totals_mismatches,
    })
}

/// When `herold backup` last wrote a data backup (scheduled backups keep their own time).
const MANUAL_BACKUP_AT: &str = "manual_backup_at";

impl Service {
    /// When the newest data backup, scheduled or made with `herold backup`, was written.
    pub async fn last_backup_at(&self) -> Result<Option<i64>> {
        let read = |c: &rusqlite::Connection, key: &str| -> crate::store::Result<Option<i64>> {
            Ok(meta_get(c, "main", key)?.and_then(|v| v.try_into().ok()).map(i64::from_be_bytes))
        };
        Ok(self.store().call(move |c| Ok(read(c, "backup_at")?.max(read(c, MANUAL_BACKUP_AT)?))).await?)
    }

    /// What `/metrics` reads at a scrape: the queue per transport, whether each route answers, and
    /// the last backup's age.
    pub async fn metrics_snapshot(&self) -> Result<crate::metrics::Snapshot> {
        let (queued, leased) = self.store().call(|c| outbox::queue_sizes(c)).await?;
        let backup_age = self.last_backup_at().await?.map(|t| (self.now() - t).max(0));
        Ok(crate::metrics::Snapshot { queued, leased, routes: self.route_health(), backup_age })
    }

    /// Online backup of the data file (contacts stay sealed) or, with `keyring`, of the keyring file,
    /// mode 0600. Beside a data backup goes the erasure list (`erased.list`, as scheduled backups
    /// have it), so that restoring it elsewhere never brings an erased person back.
    pub async fn backup(&self, dest: &Path, keyring: bool) -> Result<()> {
        let dest = dest.to_path_buf();
        let schema = if keyring { "keyring" } else { "main" };
        let d = dest.clone();
        self.store().call(move |c| maintenance::backup(c, schema, &d)).await?;
        if !keyring {
            let now = self.now();
            self.store().call(move |c| meta_set(c, "main", MANUAL_BACKUP_AT, &now.to_be_bytes())).await?;
        }
        let list = &self.store().paths().erased;
        if !keyring && list.exists() {
            let beside = dest.parent().unwrap_or(Path::new(".")).join("erased.list");
            super::backup::copy_private(list, &beside)?;
        }
        tracing::info!(schema, "backup written");
        Ok(())
    }

    /// Re-wraps every data key under `new` and updates the key-check values; returns the number of keys.
    pub async fn rotate_key(&self, new: &MasterKey) -> Result<usize> {
        let kek = Kek::derive(new);
        let vault = self.vault().clone();
        let n = self.store().call(move |c| maintenance::rotate(c, &vault, &kek)).await?;
        tracing::info!(keys = n, "master key rotated");
        Ok(n)
    }

    /// Flushes the WAL into the database files (before copying files by hand, and in tests).
    /// A browser reported that a page broke the Content-Security-Policy: a bug in herold or an injection
    /// attempt. Counted and logged by directive only (the report's URLs may carry personal data).
    pub fn note_csp_violation(&self, directive: &str) {
        use std::sync::atomic::Ordering;
        let directive: String = directive.chars().filter(|c| c.is_ascii_alphabetic() || *c == '-').take(40).collect();
        self.inner.csp_violations.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(directive = %directive, "a browser reported a Content-Security-Policy violation");
    }

    /// Content-Security-Policy violations reported since start.
    pub fn csp_violations(&self) -> u64 {
        self.inner.csp_violations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks both database files before the server starts: a damaged file is refused, so that herold
    /// never sends from (or writes into) a corrupted database.
    pub async fn startup_check(&self) -> Result<()> {
        let problems = self
            .store()
            .call(|c| {
                let mut p = maintenance::quick_check(c, "main")?;
                p.extend(maintenance::quick_check(c, "keyring")?);
                // The check read every page into this connection's cache; nothing needs them now.
                maintenance::release_cache(c)?;
                Ok(p)
            })
            .await
            .map_err(|e| ServiceError::Unavailable(format!("the database cannot be read: {e}")))?;
        if !problems.is_empty() {
            return Err(ServiceError::Unavailable(format!(
                "the database is damaged ({}); herold will not start. Restore the last backup (herold restore) \
                 or run herold verify for details",
                problems.join("; ")
            )));
        }
        Ok(())
    }

    pub async fn checkpoint(&self) -> Result<()> {
        Ok(self.store().call(|c| maintenance::checkpoint(c)).await?)
    }
}
