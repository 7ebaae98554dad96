//! Announcement rooms as use cases: an editor turns a channel's Matrix delivery into one room the bot
//! owns (audited), each broadcast becomes one post there, and the page shows the member count only.

use std::sync::Arc;

use serde::Serialize;

use super::{Actor, Result, Service, ServiceError};
use crate::domain::Problem;
use crate::domain::audit::Action;
use crate::domain::hook::RoomHost;
use crate::domain::{ChannelId, Transport};
use crate::store::broadcasts;
use crate::store::outbox::Outcome;
use crate::store::rooms::{self, RoomPost};

/// A channel's announcement room as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RoomInfo {
    pub room: String,
    pub link: String,
    /// Members other than the bot (`None`: the bot has not synced the room).
    pub members: Option<u64>,
}

/// One post to send: the leased row and the broadcast's text.
pub struct RoomJob {
    pub post: RoomPost,
    pub text: String,
    pub html: Option<String>,
}

impl Service {
    pub fn set_room_host(&self, host: Arc<dyn RoomHost>) {
        *self.inner.room_host.lock().expect("room host lock") = Some(host);
    }

    pub(super) fn room_host(&self) -> Result<Arc<dyn RoomHost>> {
        self.inner
            .room_host
            .lock()
            .expect("room host lock")
            .clone()
            .ok_or_else(|| ServiceError::Invalid(Problem::new("matrix-not-configured")))
    }

    /// Creates the channel's announcement room and switches the channel to it.
    pub async fn create_announcement_room(&self, actor: &Actor, channel: ChannelId) -> Result<RoomInfo> {
        let host = self.room_host()?;
        let ch = self.channel(channel).await?;
        if ch.matrix_room.is_some() {
            return Err(ServiceError::Conflict(Problem::new("room-exists")));
        }
        if ch.draft.transports.contains(&Transport::Matrix) {
            return Err(ServiceError::Conflict(Problem::new("room-or-dms")));
        }
        let room = host.create_room(&ch.draft.name, &ch.draft.description).await.map_err(ServiceError::Unavailable)?;
        let (now, actor, r) = (self.now(), actor.clone(), room.clone());
        self.audited(
            move |c| rooms::set_room(c, channel, Some(&r), now),
            move |_| {
                actor.audit(
                    now,
                    Action::ChannelUpdated,
                    format!("channel {channel}"),
                    crate::domain::Message::new("audit-room-created").stored(),
                )
            },
        )
        .await?;
        tracing::info!(channel = %channel, "announcement room created");
        Ok(self.room_info(room).await)
    }

    /// Stops posting to the channel's room (the room stays; its members can be told to leave).
    pub async fn drop_announcement_room(&self, actor: &Actor, channel: ChannelId) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| rooms::set_room(c, channel, None, now),
            move |_| {
                actor.audit(
                    now,
                    Action::ChannelUpdated,
                    format!("channel {channel}"),
                    crate::domain::Message::new("audit-room-dropped").stored(),
                )
            },
        )
        .await
    }

    /// The channel's announcement room, if it has one.
    pub async fn announcement_room(&self, channel: ChannelId) -> Result<Option<RoomInfo>> {
        let Some(room) = self.channel(channel).await?.matrix_room else { return Ok(None) };
        Ok(Some(self.room_info(room).await))
    }

    /// What a page shows of a room the bot posts to: its link and members, as far as the bot knows.
    pub(super) async fn room_info(&self, room: String) -> RoomInfo {
        let host = self.inner.room_host.lock().expect("room host lock").clone();
        match host {
            Some(h) => RoomInfo { link: h.link(&room), members: h.members(&room).await, room },
            None => RoomInfo { link: String::new(), members: None, room },
        }
    }

    /// Leases the due room posts with their text; posts past their broadcast's deadline are cancelled.
    pub async fn claim_room_posts(&self) -> Result<Vec<RoomJob>> {
        let now = self.now();
        let (jobs, late) = self
            .store()
            .call(move |c| {
                let mut jobs = Vec::new();
                let mut late = Vec::new();
                for post in rooms::claim(c, now)? {
                    let b = broadcasts::get(c, post.broadcast_id)?;
                    if b.deadline.is_some_and(|d| d <= now) {
                        late.push((post, Outcome::Cancel { reason: crate::domain::Reason::DeadlinePassed }));
                    } else {
                        jobs.push(RoomJob { post, text: b.sms_text, html: b.html });
                    }
                }
                Ok((jobs, late))
            })
            .await?;
        if !late.is_empty() {
            self.record_room_posts(late).await?;
        }
        Ok(jobs)
    }

    pub async fn record_room_posts(&self, results: Vec<(RoomPost, Outcome)>) -> Result<()> {
        let now = self.now();
        Ok(self.store().call(move |c| rooms::record(c, &results, now)).await?)
    }
}
