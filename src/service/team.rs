//! The team room: an owner sets it up from the conversations page — the bot creates an end-to-end
//! encrypted room and invites the Matrix ids typed (kept nowhere) — and every message for the team
//! queues one notice there: the conversation's number and channels, never its text or its sender.

use super::rooms::RoomInfo;
use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::{MatrixUserId, Message, Problem};
use crate::store::team::{self, Notice, Posted};

/// At most this many people are invited when the room is made (more can be invited from any client).
const MAX_INVITES: usize = 50;

impl Service {
    /// Creates the team room and invites `invites` (Matrix ids, one per line or separated by commas).
    pub async fn create_team_room(&self, actor: &Actor, invites: &str) -> Result<RoomInfo> {
        self.check_owner(actor, "team-room-owner").await?;
        let host = self.room_host()?;
        let ids: Vec<String> = invites
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| MatrixUserId::parse(s).map(|u| u.as_str().to_string()))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() || ids.len() > MAX_INVITES {
            return Err(ServiceError::Invalid(Problem::new("team-room-invites").with("max", MAX_INVITES)));
        }
        if self.store().call(|c| team::room(c)).await?.is_some() {
            return Err(ServiceError::Conflict(Problem::new("room-exists")));
        }
        let room = host.create_team_room("herold", &ids).await.map_err(ServiceError::Unavailable)?;
        let (now, actor, r, n) = (self.now(), actor.clone(), room.clone(), ids.len());
        self.audited(
            move |c| team::set_room(c, Some(&r), now),
            move |_| {
                let detail = Message::new("audit-team-room-created").with("n", n).stored();
                actor.audit(now, Action::TeamRoomCreated, "team room", detail)
            },
        )
        .await?;
        tracing::info!(invited = n, "team room created");
        Ok(self.room_info(room).await)
    }

    /// Stops the notices (the room stays; its members may leave it).
    pub async fn drop_team_room(&self, actor: &Actor) -> Result<()> {
        self.check_owner(actor, "team-room-owner").await?;
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| team::set_room(c, None, now),
            move |_| actor.audit(now, Action::TeamRoomDropped, "team room", ""),
        )
        .await
    }

    /// Whether a Matrix bot is configured (it makes rooms).
    pub fn has_matrix_bot(&self) -> bool {
        self.inner.room_host.lock().expect("room host lock").is_some()
    }

    /// The team room, if there is one.
    pub async fn team_room(&self) -> Result<Option<RoomInfo>> {
        let Some(room) = self.store().call(|c| team::room(c)).await? else { return Ok(None) };
        Ok(Some(self.room_info(room).await))
    }

    /// Leases the due notices, with the room they go to (none: there is no team room any more).
    pub async fn claim_team_notices(&self) -> Result<(Option<String>, Vec<Notice>)> {
        let now = self.now();
        Ok(self.store().call(move |c| Ok((team::room(c)?, team::claim(c, now)?))).await?)
    }

    pub async fn record_team_notice(&self, id: i64, posted: Posted) -> Result<()> {
        let now = self.now();
        Ok(self.store().call(move |c| team::record(c, id, posted, now)).await?)
    }
}
