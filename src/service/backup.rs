//! Backups that respect erasure: scheduled online backups of the data and of the keyring, each with
//! its own retention (keyring backups short-lived), and a restore that re-applies every erasure
//! recorded since the backup was taken, so that a restore never brings an erased subscriber back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Actor, Result, Service, ServiceError, Settings};
use crate::crypto::MasterKeySource;
use crate::domain::SystemClock;
use crate::domain::audit::Action;
use crate::store::{self, DataPaths, erased, maintenance, meta_get, meta_set};

/// When and where scheduled backups go, and how long each kind is kept.
#[derive(Debug, Clone)]
pub struct BackupPlan {
    pub dir: PathBuf,
    /// Hours between backups; 0: no scheduled backups.
    pub every_hours: u32,
    pub keep_days: u32,
    pub keyring_keep_days: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub data: PathBuf,
    pub keyring: PathBuf,
    /// Older backups deleted by their retention.
    pub pruned: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Subscribers on the erasure list that the backup still held, erased again.
    pub erased_again: usize,
    /// Subscribers in the data whose key is not in the keyring (unreadable; left as they are).
    pub keyless: usize,
}

const STAMP: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

fn stamp(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts).ok().and_then(|t| t.format(STAMP).ok()).unwrap_or_default()
}

/// The kind (`data` or `keyring`) and time of a scheduled backup file, from its name.
fn parse_name(name: &str) -> Option<(&str, i64)> {
    let rest = name.strip_prefix("herold-")?.strip_suffix(".sqlite")?;
    let (kind, at) = rest.split_once('-')?;
    let t = time::PrimitiveDateTime::parse(at, STAMP).ok()?.assume_utc().unix_timestamp();
    matches!(kind, "data" | "keyring").then_some((kind, t))
}

/// Deletes scheduled backups older than their retention; returns how many.
fn prune(dir: &Path, now: i64, keep_days: u32, keyring_keep_days: u32) -> std::io::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let Some((kind, at)) = parse_name(&name) else { continue };
        let days = if kind == "keyring" { keyring_keep_days } else { keep_days };
        if now - at > i64::from(days) * 86_400 {
            std::fs::remove_file(entry.path())?;
            n += 1;
        }
    }
    Ok(n)
}

fn io_error(what: &str, e: std::io::Error) -> ServiceError {
    match e.raw_os_error() {
        Some(28) => ServiceError::Unavailable(format!("{what}: the disk is full")),
        _ => ServiceError::Internal(format!("{what}: {e}")),
    }
}

impl Service {
    /// Writes a data backup and a keyring backup (each through a temporary name, so a half-written
    /// file never looks like a backup), copies the erasure list beside them, and prunes old backups.
    pub async fn scheduled_backup(&self, plan: &BackupPlan) -> Result<BackupReport> {
        let now = self.now();
        std::fs::create_dir_all(&plan.dir).map_err(|e| io_error("creating the backup directory", e))?;
        let mut written = Vec::new();
        for (kind, schema) in [("data", "main"), ("keyring", "keyring")] {
            let dest = plan.dir.join(format!("herold-{kind}-{}.sqlite", stamp(now)));
            let part = dest.with_extension("sqlite.part");
            let _ = std::fs::remove_file(&part);
            let p = part.clone();
            self.store().call(move |c| maintenance::backup(c, schema, &p)).await?;
            std::fs::rename(&part, &dest).map_err(|e| io_error("finishing a backup", e))?;
            written.push(dest);
        }
        let list = &self.store().paths().erased;
        if list.exists() {
            copy_private(list, &plan.dir.join("erased.list"))?;
        }
        let pruned = prune(&plan.dir, now, plan.keep_days, plan.keyring_keep_days)
            .map_err(|e| io_error("deleting old backups", e))?;
        self.store().call(move |c| meta_set(c, "main", "backup_at", &now.to_be_bytes())).await?;
        let keyring = written.pop().expect("two files");
        let data = written.pop().expect("two files");
        let detail = crate::domain::Message::new("audit-backup-scheduled").with("pruned", pruned).stored();
        self.audit(&Actor::System, Action::Backup, stamp(now), detail).await?;
        tracing::info!(pruned, "scheduled backup written");
        Ok(BackupReport { data, keyring, pruned })
    }

    /// Runs a scheduled backup when the last one is `every_hours` old (or there was none).
    pub async fn backup_if_due(&self, plan: &BackupPlan) -> Result<Option<BackupReport>> {
        if plan.every_hours == 0 {
            return Ok(None);
        }
        let now = self.now();
        let last = self
            .store()
            .call(|c| Ok(meta_get(c, "main", "backup_at")?.and_then(|v| v.try_into().ok()).map(i64::from_be_bytes)))
            .await?;
        if last.is_some_and(|t| now - t < i64::from(plan.every_hours) * 3600) {
            return Ok(None);
        }
        Ok(Some(self.scheduled_backup(plan).await?))
    }
}

/// Copies the erasure list to `dest` (replacing an older copy), readable by its owner only.
pub(super) fn copy_private(list: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let part = dest.with_extension("list.part");
    let _ = std::fs::remove_file(&part);
    maintenance::private_new_file(&part)?;
    std::fs::copy(list, &part).map_err(|e| io_error("copying the erasure list", e))?;
    std::fs::set_permissions(&part, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io_error("protecting the erasure list", e))?;
    std::fs::rename(&part, dest).map_err(|e| io_error("copying the erasure list", e))
}

/// Replaces the data (and, if given, the keyring) with a backup. Stop the server first (the caller
/// holds the data directory's lock). Everything happens on copies in a staging directory: the
/// backup is checked, opened with the master key, upgraded, and every erasure on the permanent list
/// (merged with an `erased.list` beside the backup) is applied again; only then are the files swapped
/// in. A failure at any step leaves the current files as they were.
pub async fn restore(
    paths: &DataPaths,
    source: &MasterKeySource,
    data: &Path,
    keyring: Option<&Path>,
) -> Result<RestoreReport> {
    for f in std::iter::once(data).chain(keyring) {
        let (problems, version) = maintenance::leaving_no_trace(f, || maintenance::check_file(f))
            .map_err(|e| ServiceError::File(format!("{} is not a readable herold backup: {e}", f.display())))?;
        if !problems.is_empty() {
            return Err(ServiceError::File(format!("{} is damaged: {}", f.display(), problems.join("; "))));
        }
        let known = if Some(f) == keyring { store::open::KEYRING_SCHEMA } else { store::open::MAIN_SCHEMA };
        if version > known {
            return Err(ServiceError::File(format!(
                "{} was written by a newer herold (schema {version}); restore it with that release",
                f.display()
            )));
        }
    }
    // Erasures recorded beside the backup (a copy from another machine) join the permanent list.
    if let Some(beside) = data.parent().map(|d| d.join("erased.list"))
        && beside.exists()
        && beside != paths.erased
    {
        let known: std::collections::HashSet<i64> = erased::read(&paths.erased)?.into_iter().collect();
        let new: Vec<i64> = erased::read(&beside)?.into_iter().filter(|id| !known.contains(id)).collect();
        erased::record(&paths.erased, &new, time::OffsetDateTime::now_utc().unix_timestamp())?;
    }
    let staging = paths.dir.join("restore-staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| io_error("creating the staging directory", e))?;
    let staged = DataPaths {
        dir: staging.clone(),
        main: staging.join("herold.sqlite"),
        keyring: staging.join("keyring.sqlite"),
        key_file: paths.key_file.clone(),
        erased: paths.erased.clone(),
    };
    maintenance::leaving_no_trace(data, || maintenance::copy_file(data, &staged.main))?;
    let keys = keyring.unwrap_or(&paths.keyring);
    match keyring {
        Some(k) => maintenance::leaving_no_trace(k, || maintenance::copy_file(k, &staged.keyring))?,
        None => maintenance::copy_file(keys, &staged.keyring)?,
    }
    let report = {
        let (st, vault) = store::open(&staged, source, false, 2).map_err(|e| ServiceError::File(e.to_string()))?;
        let service = Service::new(st, vault, Arc::new(SystemClock), Settings::default());
        let erased_again = service.apply_erasure_list().await?;
        // Whoever has no data key in this keyring can never be read again (erased since, or the
        // keyring is older than the data): erased now, rather than coming back "unreadable".
        let ids = service.store().call(|c| maintenance::keyless_subscribers(c)).await?;
        let keyless = service.erase_ids(ids, "cli".into(), None).await?;
        let detail = crate::domain::Message::new("audit-restored")
            .with("erased", erased_again)
            .with("keyless", keyless)
            .stored();
        let what = data.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        service.audit(&Actor::Cli, Action::Restore, what, detail).await?;
        service.checkpoint().await?;
        RestoreReport { erased_again, keyless }
    };
    // The server is stopped: its WAL files belong to the old data and must not be replayed onto the new.
    for f in [&paths.main, &paths.keyring] {
        for ext in ["-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{ext}", f.display()));
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| io_error("removing an old WAL file", e))?;
            }
        }
    }
    std::fs::rename(&staged.keyring, &paths.keyring).map_err(|e| io_error("moving the restored keyring", e))?;
    std::fs::rename(&staged.main, &paths.main).map_err(|e| io_error("moving the restored data", e))?;
    let _ = std::fs::remove_dir_all(&staging);
    tracing::info!(erased_again = report.erased_again, keyless = report.keyless, "restored from a backup");
    Ok(report)
}
