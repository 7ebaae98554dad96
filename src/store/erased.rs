//! The permanent list of erased subscriber ids: a small append-only file beside the databases. A
//! restore replaces the databases but never this list, and erases every id on it again, so a backup
//! from before an erasure can never bring that subscriber back. It holds pseudonymous ids only.

use std::io::{BufRead, Write};
use std::path::Path;

use super::{Result, StoreError};
use crate::domain::SubscriberId;

/// Appends ids (one line each: id and time) and syncs the file before returning.
pub fn record(path: &Path, ids: &[i64], at: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for id in ids {
        text.push_str(&format!("{} {at}\n", SubscriberId(*id)));
    }
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    };
    write().map_err(|e| match e.raw_os_error() {
        Some(28) => StoreError::DiskFull,
        _ => StoreError::Corrupt(format!("cannot write the erasure list {}: {e}", path.display())),
    })
}

/// Every id on the list (none if the file does not exist yet).
pub fn read(path: &Path) -> Result<Vec<i64>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(StoreError::Corrupt(format!("cannot read the erasure list {}: {e}", path.display()))),
    };
    let mut ids = Vec::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| StoreError::Corrupt(format!("the erasure list: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let id: SubscriberId = line.split_whitespace().next().unwrap_or_default().parse().map_err(|_| {
            StoreError::Corrupt(format!("the erasure list {} has a bad line {}", path.display(), n + 1))
        })?;
        ids.push(id.0);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("erased.list");
        assert_eq!(read(&p).unwrap(), Vec::<i64>::new());
        record(&p, &[5, 0x7fff_ffff_ffff], 100).unwrap();
        record(&p, &[9], 200).unwrap();
        assert_eq!(read(&p).unwrap(), vec![5, 0x7fff_ffff_ffff, 9]);
        std::fs::write(&p, "zz 1\n").unwrap();
        assert!(read(&p).is_err());
    }
}
