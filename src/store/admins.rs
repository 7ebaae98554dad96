//! Admin accounts.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::Problem;
use crate::domain::Role;

#[derive(Debug, Clone, Serialize)]
pub struct Admin {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub language: Option<String>,
    /// Their own time zone (IANA name); none: the installation's.
    pub time_zone: Option<String>,
    pub created_at: i64,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Admin> {
    let role: String = r.get(3)?;
    Ok(Admin {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        language: r.get(4)?,
        created_at: r.get(5)?,
        time_zone: r.get(6)?,
    })
}

const COLS: &str = "id, username, password_hash, role, language, created_at, time_zone";

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM admins", [], |r| r.get(0))?)
}

pub fn insert(conn: &Connection, username: &str, hash: &str, role: Role, now: i64) -> Result<i64> {
    let res = conn.execute(
        "INSERT INTO admins(username, password_hash, role, created_at, password_changed_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![username, hash, role.as_str(), now],
    );
    match res {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict(Problem::new("admin-exists").with("name", username)))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Option<Admin>> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM admins WHERE username = ?1"), [username], row).optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Admin> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM admins WHERE id = ?1"), [id], row)?)
}

pub fn list(conn: &Connection) -> Result<Vec<Admin>> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM admins ORDER BY username"))?;
    Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Sets a new password hash and ends every session of that admin. Call inside a write transaction.
pub fn set_password(tx: &Connection, id: i64, hash: &str, now: i64) -> Result<()> {
    let n = tx.execute(
        "UPDATE admins SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
        params![id, hash, now],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.execute("DELETE FROM sessions WHERE admin_id = ?1", [id])?;
    Ok(())
}

pub fn set_time_zone(conn: &Connection, id: i64, zone: Option<&str>) -> Result<()> {
    conn.execute("UPDATE admins SET time_zone = ?2 WHERE id = ?1", params![id, zone])?;
    Ok(())
}

pub fn set_language(conn: &Connection, id: i64, language: Option<&str>) -> Result<()> {
    conn.execute("UPDATE admins SET language = ?2 WHERE id = ?1", params![id, language])?;
    Ok(())
}

/// Removes an admin, refusing to remove the last owner. Call inside a write transaction.
pub fn remove(tx: &Connection, id: i64) -> Result<Admin> {
    let admin = by_id(tx, id)?;
    if admin.role == Role::Owner {
        let owners: i64 = tx.query_row("SELECT count(*) FROM admins WHERE role = 'owner'", [], |r| r.get(0))?;
        if owners <= 1 {
            return Err(StoreError::Conflict(Problem::new("last-owner")));
        }
    }
    tx.execute("DELETE FROM admins WHERE id = ?1", [id])?;
    Ok(admin)
}
