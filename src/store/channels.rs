//! Channels and the subscriber counts shown per channel and transport.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError};
use crate::domain::Problem;
use crate::domain::{Channel, ChannelDraft, ChannelId, ChannelKind, Frequency, FrequencyPeriod, OptInMode};

const COLS: &str = "id, name, keyword, description, kind, opt_in, texts, transports, frequency_max, \
                    frequency_period, wording_version, created_at, updated_at, public_archive, matrix_room, quiet, over_cap";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Channel> {
    let bad =
        |i: usize, msg: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, msg.into());
    let kind: String = r.get(4)?;
    let opt_in: String = r.get(5)?;
    let texts: String = r.get(6)?;
    let transports: String = r.get(7)?;
    let fmax: Option<u32> = r.get(8)?;
    let fperiod: Option<String> = r.get(9)?;
    let frequency = match (fmax, fperiod) {
        (Some(max), Some(p)) => {
            Some(Frequency { max, period: FrequencyPeriod::parse(&p).map_err(|e| bad(9, e.to_string()))? })
        }
        _ => None,
    };
    Ok(Channel {
        id: r.get(0)?,
        draft: ChannelDraft {
            name: r.get(1)?,
            keyword: r.get(2)?,
            description: r.get(3)?,
            kind: ChannelKind::parse(&kind).map_err(|e| bad(4, e.to_string()))?,
            opt_in: OptInMode::parse(&opt_in).map_err(|e| bad(5, e.to_string()))?,
            texts: serde_json::from_str(&texts).map_err(|e| bad(6, e.to_string()))?,
            transports: serde_json::from_str(&transports).map_err(|e| bad(7, e.to_string()))?,
            frequency,
            public_archive: r.get(13)?,
            quiet: r.get(15)?,
            over_cap: r.get(16)?,
        },
        wording_version: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        matrix_room: r.get(14)?,
    })
}

fn conflict(e: rusqlite::Error, keyword: &str) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(Problem::new("keyword-taken").with("keyword", keyword))
        }
        e => e.into(),
    }
}

/// Records a wording version (what subscribers of that version were shown).
fn insert_wording(conn: &Connection, channel: ChannelId, version: i64, d: &ChannelDraft, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO channel_wordings(channel_id, version, sha256, content, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![channel, version, d.wording_sha256().as_slice(), d.wording(), now],
    )?;
    Ok(())
}

/// Records what people on an imported list agreed to elsewhere (the import's consent source) as the
/// channel's next wording version, which the import's ledger events then name. The channel's own
/// wording stays current: its next change takes the version after this one.
pub fn add_import_wording(conn: &Connection, channel: ChannelId, content: &str, now: i64) -> Result<(i64, [u8; 32])> {
    let version: i64 =
        conn.query_row("SELECT max(version) + 1 FROM channel_wordings WHERE channel_id = ?1", [channel], |r| r.get(0))?;
    let sha = crate::domain::channel::wording_sha256(content);
    conn.execute(
        "INSERT INTO channel_wordings(channel_id, version, sha256, content, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![channel, version, sha.as_slice(), content, now],
    )?;
    Ok((version, sha))
}

/// The wording a channel showed at `version`, as stored.
pub fn wording(conn: &Connection, channel: ChannelId, version: i64) -> Result<String> {
    Ok(conn.query_row(
        "SELECT content FROM channel_wordings WHERE channel_id = ?1 AND version = ?2",
        params![channel, version],
        |r| r.get(0),
    )?)
}

/// Inserts a channel and its first wording; call inside a write transaction.
pub fn insert(tx: &Connection, d: &ChannelDraft, now: i64) -> Result<ChannelId> {
    tx.execute(
        "INSERT INTO channels(name, keyword, description, kind, opt_in, texts, transports, frequency_max, \
         frequency_period, wording_sha256, created_at, updated_at, public_archive, quiet, over_cap) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?11,?12,?13,?14)",
        params![
            d.name,
            d.keyword,
            d.description,
            d.kind.as_str(),
            d.opt_in.as_str(),
            serde_json::to_string(&d.texts).expect("texts serialise"),
            serde_json::to_string(&d.transports).expect("transports serialise"),
            d.frequency.map(|f| f.max),
            d.frequency.map(|f| f.period.as_str()),
            d.wording_sha256().as_slice(),
            now,
            d.public_archive,
            d.quiet,
            d.over_cap
        ],
    )
    .map_err(|e| conflict(e, &d.keyword))?;
    let id = ChannelId(tx.last_insert_rowid());
    insert_wording(tx, id, 1, d, now)?;
    Ok(id)
}

/// Updates a channel; the wording version goes up when what subscribers are shown changed. Call inside
/// a write transaction.
pub fn update(tx: &Connection, id: ChannelId, d: &ChannelDraft, now: i64) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE channels SET name=?2, keyword=?3, description=?4, kind=?5, opt_in=?6, texts=?7, transports=?8, \
             frequency_max=?9, frequency_period=?10, \
             wording_version = CASE WHEN wording_sha256 IS NOT ?11 \
               THEN (SELECT max(version) + 1 FROM channel_wordings WHERE channel_id = ?1) ELSE wording_version END, \
             wording_sha256=?11, updated_at=?12, \
             public_archive=?13, quiet=?14, over_cap=?15 WHERE id = ?1",
            params![
                id,
                d.name,
                d.keyword,
                d.description,
                d.kind.as_str(),
                d.opt_in.as_str(),
                serde_json::to_string(&d.texts).expect("texts serialise"),
                serde_json::to_string(&d.transports).expect("transports serialise"),
                d.frequency.map(|f| f.max),
                d.frequency.map(|f| f.period.as_str()),
                d.wording_sha256().as_slice(),
                now,
                d.public_archive,
                d.quiet,
                d.over_cap
            ],
        )
        .map_err(|e| conflict(e, &d.keyword))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let version: i64 = tx.query_row("SELECT wording_version FROM channels WHERE id = ?1", [id], |r| r.get(0))?;
    let known: i64 = tx.query_row(
        "SELECT count(*) FROM channel_wordings WHERE channel_id = ?1 AND version = ?2",
        params![id, version],
        |r| r.get(0),
    )?;
    if known == 0 {
        insert_wording(tx, id, version, d, now)?;
    }
    Ok(())
}

pub fn by_id(conn: &Connection, id: ChannelId) -> Result<Channel> {
    Ok(conn.prepare_cached(&format!("SELECT {COLS} FROM channels WHERE id = ?1"))?.query_row([id], row)?)
}

pub fn by_keyword(conn: &Connection, keyword: &str) -> Result<Option<Channel>> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM channels WHERE keyword = ?1"), [keyword], row).optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Channel>> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLS} FROM channels ORDER BY name"))?;
    Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Active and pending subscriptions per channel and transport: (channel id, transport, active, pending).
pub fn counts(conn: &Connection) -> Result<Vec<(ChannelId, crate::domain::Transport, i64, i64)>> {
    let mut st = conn.prepare_cached("SELECT channel_id, transport, active, pending FROM channel_totals")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// Where the kept totals differ from a recount of the subscriptions (`herold verify`): one line each.
pub fn totals_mismatches(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn.prepare(
        "WITH recount AS (SELECT channel_id, transport, sum(state = 'active') AS active, \
                                 sum(state = 'pending') AS pending \
                          FROM subscriptions WHERE state IN ('active', 'pending') GROUP BY channel_id, transport) \
         SELECT t.channel_id, t.transport, t.active, t.pending, coalesce(r.active, 0), coalesce(r.pending, 0) \
         FROM channel_totals t LEFT JOIN recount r USING (channel_id, transport) \
         WHERE t.active IS NOT coalesce(r.active, 0) OR t.pending IS NOT coalesce(r.pending, 0) \
         UNION ALL \
         SELECT r.channel_id, r.transport, 0, 0, r.active, r.pending FROM recount r \
         WHERE NOT EXISTS (SELECT 1 FROM channel_totals t WHERE t.channel_id = r.channel_id AND t.transport = r.transport)",
    )?;
    let rows = st.query_map([], |r| {
        Ok(format!(
            "channel {} on {}: kept {} active / {} pending, counted {} / {}",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Each channel's active total at the end of each day from `since_day` on (days since 1970, UTC),
/// and the last one before it (a bare column beside `max()` comes from the row with the maximum).
pub fn days(conn: &Connection, since_day: i64) -> Result<Vec<(ChannelId, i64, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT channel_id, day, active FROM channel_days WHERE day >= ?1 \
         UNION ALL SELECT channel_id, max(day), active FROM channel_days WHERE day < ?1 GROUP BY channel_id \
         ORDER BY 1, 2",
    )?;
    Ok(st.query_map([since_day], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?)
}
