//! Broadcasts and newsletters: creation (idempotent by key), state, progress counters, schedules.

use crate::domain::Reason;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::Problem;
use crate::domain::event::EventKind;
use crate::domain::{BroadcastId, BroadcastState, ChannelId, ChannelKind};

#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub kind: ChannelKind,
    pub title: String,
    pub body: String,
    pub sms_text: String,
    pub html: Option<String>,
    pub idempotency_key: String,
    pub send_at: i64,
    pub deadline: Option<i64>,
    pub frequency_override: bool,
    pub created_by: String,
    pub channels: Vec<ChannelId>,
    pub translation: Option<Translation>,
}

/// A broadcast's version in a second language: what the subscribers of that language get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Translation {
    pub lang: crate::domain::keywords::Lang,
    pub title: String,
    pub body: String,
    pub sms_text: String,
    pub html: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Broadcast {
    pub id: BroadcastId,
    pub kind: ChannelKind,
    pub title: String,
    pub body: String,
    pub sms_text: String,
    pub html: Option<String>,
    pub state: BroadcastState,
    pub pause_reason: Option<Reason>,
    pub send_at: i64,
    pub deadline: Option<i64>,
    pub frequency_override: bool,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub total: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub channels: Vec<ChannelId>,
    /// Deliveries wait until then because a gateway or the homeserver asked (rate limit), and why.
    pub waiting_until: Option<i64>,
    pub waiting_reason: Option<Reason>,
    /// The version for subscribers of another language, if the editor wrote one.
    pub translation: Option<Translation>,
}

const COLS: &str = "id, kind, title, body, sms_text, html, state, pause_reason, send_at, deadline, frequency_override, \
                    created_by, created_at, started_at, finished_at, total, sent, delivered, failed, cancelled, \
                    waiting_until, waiting_reason, translation";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Broadcast> {
    Ok(Broadcast {
        id: r.get(0)?,
        kind: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        sms_text: r.get(4)?,
        html: r.get(5)?,
        state: r.get(6)?,
        pause_reason: r.get(7)?,
        send_at: r.get(8)?,
        deadline: r.get(9)?,
        frequency_override: r.get(10)?,
        created_by: r.get(11)?,
        created_at: r.get(12)?,
        started_at: r.get(13)?,
        finished_at: r.get(14)?,
        total: r.get(15)?,
        sent: r.get(16)?,
        delivered: r.get(17)?,
        failed: r.get(18)?,
        cancelled: r.get(19)?,
        channels: vec![],
        waiting_until: r.get(20)?,
        waiting_reason: r.get(21)?,
        translation: r.get(22)?,
    })
}

fn channels_of(conn: &Connection, id: BroadcastId) -> Result<Vec<ChannelId>> {
    let mut st =
        conn.prepare_cached("SELECT channel_id FROM broadcast_channels WHERE broadcast_id = ?1 ORDER BY channel_id")?;
    Ok(st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// A channel's frequency promise, checked when a broadcast to it is created.
#[derive(Debug, Clone)]
pub struct Promise {
    pub channel: ChannelId,
    pub name: String,
    pub frequency: crate::domain::Frequency,
}

/// What [`insert`] did.
#[derive(Debug, Clone, Copy)]
pub struct Inserted {
    pub id: BroadcastId,
    /// `false`: the idempotency key was known; this is the broadcast created with it.
    pub created: bool,
    /// A channel's promise was used up and the broadcast's override let it through.
    pub over_promise: bool,
}

/// Creates a broadcast, or returns the one already created with the same idempotency key. Each
/// channel's promise is counted in the same write transaction as the insert, so two editors sending
/// at the same moment into a channel with one slot left cannot both pass: the second is refused
/// (`frequency-promise-reached`) unless the broadcast overrides it. Call inside a write transaction.
pub fn insert(tx: &Connection, b: &NewBroadcast, promises: &[Promise], now: i64) -> Result<Inserted> {
    if let Some(id) = tx
        .query_row("SELECT id FROM broadcasts WHERE idempotency_key = ?1", [&b.idempotency_key], |r| r.get(0))
        .optional()?
    {
        return Ok(Inserted { id, created: false, over_promise: false });
    }
    let mut over_promise = false;
    for p in promises {
        let used = count_for_channel_since(tx, p.channel, b.send_at - p.frequency.period.seconds())?;
        if used >= i64::from(p.frequency.max) && !b.frequency_override {
            return Err(StoreError::Refused(
                crate::domain::Problem::new("frequency-promise-reached")
                    .with("channel", &p.name)
                    .with("max", p.frequency.max)
                    .word("period", p.frequency.period.as_str())
                    .with("count", used),
            ));
        }
        over_promise |= used >= i64::from(p.frequency.max);
    }
    tx.execute(
        "INSERT INTO broadcasts(kind, title, body, sms_text, html, state, idempotency_key, send_at, deadline, \
         frequency_override, created_by, created_at, translation) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'scheduled', ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            b.kind,
            b.title,
            b.body,
            b.sms_text,
            b.html,
            b.idempotency_key,
            b.send_at,
            b.deadline,
            b.frequency_override,
            b.created_by,
            now,
            b.translation
        ],
    )?;
    let id = BroadcastId(tx.last_insert_rowid());
    for ch in &b.channels {
        tx.execute("INSERT INTO broadcast_channels(broadcast_id, channel_id) VALUES (?1, ?2)", params![id, ch])?;
    }
    Ok(Inserted { id, created: true, over_promise })
}

/// Takes a broadcast that has not started back out of the schedule: its row goes, what was written
/// comes back (to become a draft in the same transaction). `Conflict(broadcast-started)` once it has
/// started. Call inside a write transaction.
pub fn unschedule(tx: &Connection, id: BroadcastId) -> Result<crate::domain::draft::Written> {
    let b = get(tx, id)?;
    if b.state != BroadcastState::Scheduled {
        return Err(StoreError::Conflict(crate::domain::Problem::new("broadcast-started")));
    }
    tx.execute("DELETE FROM broadcast_channels WHERE broadcast_id = ?1", [id])?;
    tx.execute("DELETE FROM broadcasts WHERE id = ?1 AND state = 'scheduled'", [id])?;
    Ok(crate::domain::draft::Written {
        kind: b.kind,
        title: b.title,
        body: b.body,
        channels: b.channels,
        send_at: Some(b.send_at),
        deadline: b.deadline,
        translation: b.translation.map(|t| crate::domain::draft::ComposeTranslation {
            lang: t.lang,
            title: t.title,
            body: t.body,
        }),
    })
}

/// The broadcast created with an idempotency key, if any.
pub fn by_key(conn: &Connection, key: &str) -> Result<Option<BroadcastId>> {
    Ok(conn.query_row("SELECT id FROM broadcasts WHERE idempotency_key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn get(conn: &Connection, id: BroadcastId) -> Result<Broadcast> {
    let mut b = conn.prepare_cached(&format!("SELECT {COLS} FROM broadcasts WHERE id = ?1"))?.query_row([id], row)?;
    b.channels = channels_of(conn, id)?;
    Ok(b)
}

pub fn list(conn: &Connection, limit: i64) -> Result<Vec<Broadcast>> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM broadcasts ORDER BY id DESC LIMIT ?1"))?;
    let mut out: Vec<Broadcast> = st.query_map([limit], row)?.collect::<rusqlite::Result<_>>()?;
    for b in &mut out {
        b.channels = channels_of(conn, b.id)?;
    }
    Ok(out)
}

/// Moves a broadcast between states; `from` lists the states it may leave.
pub fn transition(
    conn: &Connection,
    id: BroadcastId,
    from: &[BroadcastState],
    to: BroadcastState,
    reason: Option<&Reason>,
    now: i64,
) -> Result<()> {
    let current: BroadcastState = conn.query_row("SELECT state FROM broadcasts WHERE id = ?1", [id], |r| r.get(0))?;
    if !from.contains(&current) {
        return Err(StoreError::Conflict(
            Problem::new("broadcast-state-change").word("from", current.as_str()).word("to", to.as_str()),
        ));
    }
    let finished = to.is_over().then_some(now);
    conn.execute(
        "UPDATE broadcasts SET state = ?2, pause_reason = ?3, finished_at = coalesce(?4, finished_at) WHERE id = ?1",
        params![id, to, reason, finished],
    )?;
    let event = if to.is_over() {
        Some(EventKind::BroadcastFinished)
    } else {
        (to == BroadcastState::Paused).then_some(EventKind::BroadcastPaused)
    };
    if let Some(kind) = event {
        super::event_hooks::enqueue_broadcast(conn, id, kind, now)?;
    }
    Ok(())
}

/// Scheduled broadcasts whose time has come.
pub fn due(conn: &Connection, now: i64) -> Result<Vec<BroadcastId>> {
    let mut st =
        conn.prepare_cached("SELECT id FROM broadcasts WHERE state = 'scheduled' AND send_at <= ?1 ORDER BY send_at")?;
    Ok(st.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Broadcasts to a channel that were sent or are planned from `since` on (for the declared frequency).
pub fn count_for_channel_since(conn: &Connection, channel: ChannelId, since: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM broadcasts b JOIN broadcast_channels c ON c.broadcast_id = b.id \
         WHERE c.channel_id = ?1 AND b.state != 'cancelled' AND b.send_at >= ?2",
        params![channel, since],
        |r| r.get(0),
    )?)
}

/// SQL for the text a delivery `d` of broadcast `b` carried: the translation's for a subscriber of its
/// language, else the main one (as `service::delivery` chooses when sending).
pub const SENT_TEXT: &str = "CASE WHEN json_extract(b.translation, '$.lang') = \
     (SELECT language FROM subscribers WHERE id = d.subscriber_id) \
     THEN json_extract(b.translation, '$.sms_text') ELSE b.sms_text END";

/// Replaces the translation (its SMS text shortened to the archive link, as the main text's).
pub fn set_translation(conn: &Connection, id: BroadcastId, t: &Translation) -> Result<()> {
    conn.execute("UPDATE broadcasts SET translation = ?2 WHERE id = ?1", params![id, t])?;
    Ok(())
}

/// Replaces the SMS text (a too-long newsletter gets a short version with its archive link).
pub fn set_sms_text(conn: &Connection, id: BroadcastId, text: &str) -> Result<()> {
    conn.execute("UPDATE broadcasts SET sms_text = ?2 WHERE id = ?1", params![id, text])?;
    Ok(())
}

/// Newsletters of a channel that went out (or are going out), newest first: the public archive.
pub fn archive(conn: &Connection, channel: ChannelId, limit: i64) -> Result<Vec<Broadcast>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM broadcasts WHERE kind = 'newsletter' AND state IN ('sending', 'done') \
         AND id IN (SELECT broadcast_id FROM broadcast_channels WHERE channel_id = ?1) ORDER BY send_at DESC LIMIT ?2"
    ))?;
    Ok(st.query_map(params![channel, limit], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Sent and failed per minute for the last `minutes` minutes that saw any (minutes since 1970).
pub fn minutes(conn: &Connection, id: BroadcastId, minutes: i64) -> Result<Vec<(i64, i64, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT minute, sent, failed FROM (SELECT minute, sent, failed FROM broadcast_minutes \
         WHERE broadcast_id = ?1 ORDER BY minute DESC LIMIT ?2) ORDER BY minute",
    )?;
    Ok(st
        .query_map(params![id, minutes], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// How each of a broadcast's channels treats the night.
pub fn quiet_rules(conn: &Connection, broadcast: BroadcastId) -> Result<Vec<crate::domain::quiet::QuietRule>> {
    let mut st = conn.prepare_cached(
        "SELECT c.quiet FROM broadcast_channels bc JOIN channels c ON c.id = bc.channel_id WHERE bc.broadcast_id = ?1",
    )?;
    Ok(st.query_map([broadcast], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// A rate limit holds a broadcast's deliveries back until `at`: remembered on the broadcast for its page.
pub(super) fn note_waiting(conn: &Connection, broadcast: BroadcastId, at: i64, reason: &Reason) -> Result<()> {
    conn.prepare_cached(
        "UPDATE broadcasts SET waiting_until = max(coalesce(waiting_until, 0), ?2), waiting_reason = ?3 WHERE id = ?1",
    )?
    .execute(params![broadcast, at, reason])?;
    Ok(())
}

pub(super) fn bump_counters(
    conn: &Connection,
    b: BroadcastId,
    sent: i64,
    failed: i64,
    cancelled: i64,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE broadcasts SET sent = sent + ?2, failed = failed + ?3, cancelled = cancelled + ?4 WHERE id = ?1",
    )?
    .execute(params![b, sent, failed, cancelled])?;
    if sent > 0 || failed > 0 {
        conn.prepare_cached(
            "INSERT INTO broadcast_minutes (broadcast_id, minute, sent, failed) VALUES (?1, ?2 / 60, ?3, ?4) \
             ON CONFLICT (broadcast_id, minute) DO UPDATE \
             SET sent = sent + excluded.sent, failed = failed + excluded.failed",
        )?
        .execute(params![b, now, sent, failed])?;
    }
    let finished = conn
        .prepare_cached(
            "UPDATE broadcasts SET state = 'done', finished_at = ?2 \
             WHERE id = ?1 AND state IN ('sending', 'paused') AND sent + failed + cancelled >= total",
        )?
        .execute(params![b, now])?;
    if finished == 1 {
        super::event_hooks::enqueue_broadcast(conn, b, EventKind::BroadcastFinished, now)?;
    }
    Ok(())
}
