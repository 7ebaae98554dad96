//! Opening the data directory: schema checks and the master-key check happen before anything is
//! written; then migrations run and the pool is built.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use rand::RngCore;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

use super::{Store, StoreError, build_pool, meta_get, meta_set};
use crate::crypto::vault::{INDEX_SECRET_AAD, Kek};
use crate::crypto::{CryptoError, MasterKey, MasterKeySource, Vault};

static MAIN_MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_initial.sql")),
        M::up(include_str!("../../migrations/0002_conversation_delivery.sql")),
        M::up(include_str!("../../migrations/0003_outbox_cursor.sql")),
        M::up(include_str!("../../migrations/0004_privacy.sql")),
        M::up(include_str!("../../migrations/0005_matrix.sql")),
        M::up(include_str!("../../migrations/0006_channel_totals.sql")),
        M::up(include_str!("../../migrations/0007_deliveries_check.sql")),
        M::up(include_str!("../../migrations/0008_early_reports.sql")),
        M::up(include_str!("../../migrations/0009_lanes_and_dm_rooms.sql")),
        M::up(include_str!("../../migrations/0010_reasons_as_codes.sql")),
        M::up(include_str!("../../migrations/0011_send_scope.sql")),
        M::up(include_str!("../../migrations/0012_event_webhooks.sql")),
        M::up(include_str!("../../migrations/0013_subscriber_note.sql")),
        M::up(include_str!("../../migrations/0014_broadcast_translation.sql")),
        M::up(include_str!("../../migrations/0015_quiet_hours_and_caps.sql")),
        M::up(include_str!("../../migrations/0016_drafts_and_admin_zone.sql")),
        M::up(include_str!("../../migrations/0017_conversations.sql")),
        M::up(include_str!("../../migrations/0018_team_room.sql")),
        M::up(include_str!("../../migrations/0019_gateway_quotas.sql")),
    ])
});
static KEYRING_MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/keyring/0001_keyring.sql")),
        M::up(include_str!("../../migrations/keyring/0002_spare_keys.sql")),
    ])
});

/// The data file's migrations (for tests that migrate step by step).
pub fn main_migrations() -> &'static Migrations<'static> {
    &MAIN_MIGRATIONS
}

/// Schema versions this binary knows.
pub const MAIN_SCHEMA: i64 = 19;
pub const KEYRING_SCHEMA: i64 = 2;

/// Where the files of one installation live.
#[derive(Debug, Clone)]
pub struct DataPaths {
    pub dir: PathBuf,
    pub main: PathBuf,
    pub keyring: PathBuf,
    pub key_file: PathBuf,
    /// The permanent list of erased subscriber ids (survives restores).
    pub erased: PathBuf,
}

impl DataPaths {
    pub fn new(dir: &Path, key_file: Option<&Path>) -> Self {
        Self {
            dir: dir.to_path_buf(),
            main: dir.join("herold.sqlite"),
            keyring: dir.join("keyring.sqlite"),
            key_file: key_file.map(Path::to_path_buf).unwrap_or_else(|| dir.join("master.key")),
            erased: dir.join("erased.list"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(
        "{file} has schema version {found}, newer than this herold knows ({known}); \
         run the herold release that wrote it, or a newer one"
    )]
    SchemaTooNew { file: String, found: i64, known: i64 },
    #[error("{present} exists but {missing} does not; restore the missing file from a backup")]
    Incomplete { present: String, missing: String },
    #[error("no data in {0}; run `herold init` or `herold serve` first")]
    NotInitialised(String),
    #[error("the data exists but the key file {0} does not; point key_file at the right file")]
    KeyFileMissing(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("migrating {file}: {msg}")]
    Migration { file: String, msg: String },
}

/// What is read, without writing, before the key is checked.
struct Preflight {
    main_check: Option<Vec<u8>>,
    keyring_check: Option<Vec<u8>>,
    salt: Option<Vec<u8>>,
}

fn open_existing(path: &Path) -> Result<Connection, OpenError> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| OpenError::Store(e.into()))
}

fn schema_version(conn: &Connection) -> Result<i64, OpenError> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(StoreError::from)?)
}

fn has_meta(conn: &Connection) -> Result<bool, OpenError> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |r| r.get(0))
        .map_err(StoreError::from)?;
    Ok(n == 1)
}

fn preflight(paths: &DataPaths) -> Result<Preflight, OpenError> {
    let mut out = Preflight { main_check: None, keyring_check: None, salt: None };
    for (path, known, is_main) in [(&paths.main, MAIN_SCHEMA, true), (&paths.keyring, KEYRING_SCHEMA, false)] {
        let conn = open_existing(path)?;
        let found = schema_version(&conn)?;
        if found > known {
            return Err(OpenError::SchemaTooNew { file: path.display().to_string(), found, known });
        }
        if has_meta(&conn)? {
            if is_main {
                out.main_check = meta_get(&conn, "main", "key_check")?;
            } else {
                out.keyring_check = meta_get(&conn, "main", "key_check")?;
                out.salt = meta_get(&conn, "main", "passphrase_salt")?;
            }
        }
    }
    Ok(out)
}

fn load_master(source: &MasterKeySource, fresh: bool, salt: &[u8]) -> Result<MasterKey, OpenError> {
    Ok(match source {
        MasterKeySource::Hex(h) => MasterKey::from_hex(h)?,
        MasterKeySource::Passphrase(p) => MasterKey::from_passphrase(p, salt)?,
        MasterKeySource::File { path, create } => {
            if path.exists() {
                MasterKey::read_file(path)?
            } else if fresh && *create {
                let k = MasterKey::generate();
                k.write_new_file(path)?;
                tracing::info!(path = %path.display(), "created a new master key file; back it up apart from the data");
                k
            } else if fresh {
                return Err(OpenError::NotInitialised(path.display().to_string()));
            } else {
                return Err(OpenError::KeyFileMissing(path.display().to_string()));
            }
        }
    })
}

fn migrate(path: &Path, migrations: &Migrations<'static>) -> Result<Connection, OpenError> {
    let mut conn = Connection::open(path).map_err(StoreError::from)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(StoreError::from)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(StoreError::from)?;
    migrations
        .to_latest(&mut conn)
        .map_err(|e| OpenError::Migration { file: path.display().to_string(), msg: e.to_string() })?;
    Ok(conn)
}

fn create_private_dir(dir: &Path) -> Result<(), OpenError> {
    std::fs::create_dir_all(dir).map_err(|e| OpenError::Io(format!("creating {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Opens (and with `create`, initialises) an installation. A wrong key fails here, before any write.
pub fn open(
    paths: &DataPaths,
    source: &MasterKeySource,
    create: bool,
    pool_size: u32,
) -> Result<(Store, Arc<Vault>), OpenError> {
    let (main_exists, keyring_exists) = (paths.main.exists(), paths.keyring.exists());
    let fresh = match (main_exists, keyring_exists) {
        (false, false) => true,
        (true, true) => false,
        (true, false) => {
            return Err(OpenError::Incomplete {
                present: paths.main.display().to_string(),
                missing: paths.keyring.display().to_string(),
            });
        }
        (false, true) => {
            return Err(OpenError::Incomplete {
                present: paths.keyring.display().to_string(),
                missing: paths.main.display().to_string(),
            });
        }
    };
    if fresh && !create {
        return Err(OpenError::NotInitialised(paths.dir.display().to_string()));
    }
    let pre = if fresh { Preflight { main_check: None, keyring_check: None, salt: None } } else { preflight(paths)? };
    if !fresh && (pre.main_check.is_none() || pre.keyring_check.is_none()) {
        return Err(OpenError::Store(StoreError::Corrupt("the key-check value is missing".into())));
    }
    if fresh {
        create_private_dir(&paths.dir)?;
    }
    let salt = pre.salt.clone().unwrap_or_else(|| {
        let mut s = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut s);
        s
    });
    let master = load_master(source, fresh, &salt)?;
    let kek = Kek::derive(&master);
    for stored in [&pre.main_check, &pre.keyring_check].into_iter().flatten() {
        if !kek.matches(stored) {
            return Err(CryptoError::WrongKey.into());
        }
    }

    // The key is right (or this is a new installation): from here on we may write.
    let keyring = migrate(&paths.keyring, &KEYRING_MIGRATIONS)?;
    let main = migrate(&paths.main, &MAIN_MIGRATIONS)?;
    let index_secret = if fresh {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        meta_set(&keyring, "main", "passphrase_salt", &salt)?;
        meta_set(&keyring, "main", "index_secret", &kek.wrap(&secret, INDEX_SECRET_AAD))?;
        meta_set(&keyring, "main", "key_check", &kek.check_value())?;
        meta_set(&main, "main", "key_check", &kek.check_value())?;
        secret
    } else {
        let wrapped = meta_get(&keyring, "main", "index_secret")?
            .ok_or_else(|| StoreError::Corrupt("the keyring has no blind-index secret".into()))?;
        *kek.unwrap(&wrapped, INDEX_SECRET_AAD)?
    };
    drop((keyring, main));
    let pool = build_pool(paths.main.clone(), paths.keyring.clone(), pool_size)?;
    let checkpoints =
        Arc::new(super::checkpoint::Checkpointer::start(&paths.main, &paths.keyring).map_err(StoreError::from)?);
    Ok((
        Store {
            group: Arc::new(super::group::GroupWriter::start(pool.clone())),
            pool,
            paths: paths.clone(),
            _checkpoints: checkpoints,
        },
        Arc::new(Vault::new(kek, &index_secret)),
    ))
}

/// Derives the key-check for `source` against an existing installation without opening it for
/// writing (used by `rotate-key` to load the old key).
pub fn master_for(paths: &DataPaths, source: &MasterKeySource) -> Result<MasterKey, OpenError> {
    let pre = preflight(paths)?;
    let master = load_master(source, false, pre.salt.as_deref().unwrap_or_default())?;
    Ok(master)
}

/// A read-only connection to both files, without the master key (for `herold verify`).
pub fn open_read_only(paths: &DataPaths) -> Result<Connection, OpenError> {
    for p in [&paths.main, &paths.keyring] {
        if !p.exists() {
            return Err(OpenError::NotInitialised(p.display().to_string()));
        }
    }
    let conn = Connection::open_with_flags(&paths.main, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(StoreError::from)?;
    let uri = format!("file:{}?mode=ro", paths.keyring.display());
    conn.execute("ATTACH DATABASE ?1 AS keyring", [uri]).map_err(StoreError::from)?;
    Ok(conn)
}
