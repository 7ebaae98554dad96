//! Announcement rooms: one room per channel that the bot creates and alone may post in; anyone with
//! the link may join, and its members can see each other (which the UI and README say plainly). And
//! the team's room, by invitation, where the bot says that conversations have new messages.

use crate::domain::Reason;
use futures_util::future::BoxFuture;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::api::client::room::Visibility;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request, RoomPreset};
use matrix_sdk::ruma::serde::Raw;
use serde_json::json;

use super::Matrix;
use super::session::errcode;
use crate::domain::hook::RoomHost;
use crate::transport::{Receipt, SendError};

fn raw<T>(value: serde_json::Value) -> Raw<T> {
    Raw::from_json(serde_json::value::to_raw_value(&value).expect("JSON serialises"))
}

impl Matrix {
    pub(super) async fn post_to_announcement_room(
        &self,
        room: &str,
        key: &str,
        text: &str,
        html: Option<&str>,
    ) -> Result<Receipt, SendError> {
        let client = self.connected()?;
        let id = OwnedRoomId::try_from(room).map_err(|_| SendError::Permanent(Reason::BadRoom))?;
        let Some(room) = client.get_room(&id).filter(|r| r.state() == matrix_sdk::RoomState::Joined) else {
            return Err(SendError::Permanent(Reason::NotInRoom));
        };
        self.post(&room, key, text, html).await
    }

    async fn create_announcement_room(&self, name: &str, topic: &str) -> Result<String, String> {
        let client = self.client.get().ok_or("the Matrix bot is not connected yet")?;
        let mut req = Request::new();
        req.name = Some(name.to_string());
        req.topic = (!topic.is_empty()).then(|| topic.to_string());
        req.preset = Some(RoomPreset::PublicChat); // joins by link, no invite needed
        req.visibility = Visibility::Private; // not listed in the homeserver's directory
        req.initial_state = vec![
            raw(
                json!({"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}),
            ),
            // New members see posts from when they joined on; they could not decrypt older ones anyway.
            raw(
                json!({"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "joined"}}),
            ),
        ];
        // Members (power 0) may read only: posting, inviting and changing the room need 50.
        req.power_level_content_override = Some(raw(json!({
            "events_default": 50, "invite": 50, "state_default": 50, "redact": 50, "kick": 50, "ban": 50
        })));
        let room = client.create_room(req).await.map_err(|e| format!("the homeserver answered {}", errcode(&e)))?;
        Ok(room.room_id().to_string())
    }
}

impl RoomHost for Matrix {
    fn create_room<'a>(&'a self, name: &'a str, topic: &'a str) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.create_announcement_room(name, topic))
    }

    fn create_team_room<'a>(&'a self, name: &'a str, invite: &'a [String]) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let client = self.client.get().ok_or("the Matrix bot is not connected yet")?;
            let mut req = Request::new();
            req.name = Some(name.to_string());
            req.preset = Some(RoomPreset::PrivateChat); // by invitation only
            req.visibility = Visibility::Private;
            req.invite =
                invite.iter().filter_map(|u| matrix_sdk::ruma::OwnedUserId::try_from(u.as_str()).ok()).collect();
            req.initial_state = vec![raw(
                json!({"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}),
            )];
            let room = client.create_room(req).await.map_err(|e| format!("the homeserver answered {}", errcode(&e)))?;
            Ok(room.room_id().to_string())
        })
    }

    fn members<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async move {
            let id = OwnedRoomId::try_from(room).ok()?;
            let room = self.client.get()?.get_room(&id)?;
            // From the member events the bot has synced (the sync summary's count needs lazy loading).
            let joined = room.members_no_sync(matrix_sdk::RoomMemberships::JOIN).await.ok()?;
            Some(joined.len().saturating_sub(1) as u64)
        })
    }

    fn link(&self, room: &str) -> String {
        let server = self.settings.user_id.split_once(':').map(|(_, s)| s).unwrap_or_default();
        format!("https://matrix.to/#/{room}?via={server}")
    }
}
