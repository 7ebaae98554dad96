//! The bot's sync loop: connects (and reconnects with backoff), joins the DMs subscribers open,
//! and hands their messages and their leaving to herold as [`HookEvent`]s.

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::MemberEvent;
use matrix_sdk::ruma::events::room::member::{MembershipChange, OriginalSyncRoomMemberEvent, StrippedRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent};
use matrix_sdk::{Client, Room, RoomState};
use tokio::sync::{mpsc, watch};

use super::Matrix;
use crate::domain::Reason;
use crate::domain::hook::HookEvent;

/// Runs until `stop` turns true: connect, first sync, then sync forever; on an error, wait (2 s,
/// doubling to a minute) and go again. Failures go to the status page and the log, never a panic.
pub async fn run(m: Arc<Matrix>, events: mpsc::UnboundedSender<HookEvent>, mut stop: watch::Receiver<bool>) {
    let mut delay = 2;
    loop {
        if *stop.borrow() {
            return;
        }
        match connect_and_sync(&m, &events, &mut stop).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, retry_in_seconds = delay, "the Matrix bot lost its connection");
                m.status_mut(|s| {
                    s.syncing = false;
                    let reason = match error.starts_with("M_") {
                        true => Reason::HomeserverError { errcode: error.clone() },
                        false => Reason::HomeserverUnreachable,
                    };
                    s.reached(Err(reason));
                    s.last_error = Some(error);
                });
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(delay)) => {}
            _ = stop.changed() => return,
        }
        delay = (delay * 2).min(60);
    }
}

async fn connect_and_sync(
    m: &Arc<Matrix>,
    events: &mpsc::UnboundedSender<HookEvent>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let client = match m.client.get() {
        Some(c) => c.clone(),
        None => {
            let (client, restored) = m.connect().await.map_err(|e| e.to_string())?;
            // A restored session catches up on what arrived while herold was down (event ids make
            // a repeat harmless); a fresh login does not answer the history of its first sync.
            if restored {
                add_handlers(&client, m, events);
            }
            client.sync_once(SyncSettings::default()).await.map_err(|e| super::session::errcode(&e))?;
            client.encryption().wait_for_e2ee_initialization_tasks().await;
            if !restored {
                add_handlers(&client, m, events);
            }
            join_pending(m, &client).await;
            let cs = client.encryption().cross_signing_status().await;
            m.status_mut(|s| s.cross_signed = cs.map(|c| c.is_complete()));
            m.ensure_recovery(&client).await;
            tracing::info!(restored, "the Matrix bot is connected");
            let _ = m.client.set(client.clone());
            client
        }
    };
    m.status_mut(|s| {
        s.syncing = true;
        s.last_error = None;
        s.reached(Ok(()));
    });
    let settings = SyncSettings::default().timeout(Duration::from_secs(30));
    tokio::select! {
        r = client.sync(settings) => r.map_err(|e| super::session::errcode(&e)),
        _ = stop.changed() => Ok(()),
    }
}

fn add_handlers(client: &Client, m: &Arc<Matrix>, events: &mpsc::UnboundedSender<HookEvent>) {
    // Invited: join (the invite may come before the room can be joined), and mark the room as the
    // inviter's DM when the invite says so.
    let mm = m.clone();
    client.add_event_handler(move |ev: StrippedRoomMemberEvent, client: Client, room: Room| {
        let m = mm.clone();
        async move {
            if Some(ev.state_key.as_ref()) != client.user_id() {
                return;
            }
            tokio::spawn(join(m, room, ev.content.is_direct == Some(true)));
        }
    });

    let tx = events.clone();
    client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room, client: Client| {
        let tx = tx.clone();
        async move {
            if room.state() != RoomState::Joined || Some(ev.sender.as_ref()) == client.user_id() {
                return;
            }
            // Only private conversations: herold never reads group rooms.
            if room.active_members_count() > 2 {
                return;
            }
            let MessageType::Text(t) = ev.content.msgtype else { return };
            let _ = tx.send(HookEvent::Direct {
                from: ev.sender.to_string(),
                text: t.body,
                id: ev.event_id.to_string(),
                room: room.room_id().to_string(),
            });
        }
    });

    let tx = events.clone();
    client.add_event_handler(move |ev: OriginalSyncRoomMemberEvent, room: Room, client: Client| {
        let tx = tx.clone();
        async move {
            let Some(me) = client.user_id() else { return };
            let (who, how) = if ev.state_key.as_str() == me.as_str() {
                match ev.membership_change() {
                    MembershipChange::Kicked | MembershipChange::Banned | MembershipChange::KickedAndBanned => {
                        (ev.sender.to_string(), "removed the bot")
                    }
                    _ => return,
                }
            } else {
                match ev.membership_change() {
                    MembershipChange::Left => (ev.state_key.to_string(), "left the room"),
                    MembershipChange::InvitationRejected => (ev.state_key.to_string(), "rejected the invite"),
                    _ => return,
                }
            };
            let _ = tx.send(HookEvent::Left { from: who, id: ev.event_id.to_string(), how });
            // A DM the subscriber left is no way to reach them: leave it too.
            if room.state() == RoomState::Joined && room.active_members_count() <= 1 {
                tokio::spawn(async move {
                    let _ = room.leave().await;
                });
            }
        }
    });
}

/// Joins a room the bot was invited to, trying again with backoff for about two minutes, and marks
/// it as direct (under the bot's `m.direct` lock) when the invite said so.
async fn join(m: Arc<Matrix>, room: Room, direct: bool) {
    let mut delay = 1;
    while let Err(e) = room.join().await {
        if delay > 64 {
            tracing::warn!(error = %super::session::errcode(&e), "could not join a room the bot was invited to");
            return;
        }
        tokio::time::sleep(Duration::from_secs(delay)).await;
        delay *= 2;
    }
    if direct {
        let _direct = m.direct.lock().await;
        if let Err(e) = room.set_is_direct(true).await {
            tracing::warn!(error = %super::session::errcode(&e), "could not mark a joined room as direct");
        }
    }
}

/// Joins every invite still pending: those from before herold's first start (a fresh login does not
/// handle its first sync's history) and any whose join did not finish before a restart.
async fn join_pending(m: &Arc<Matrix>, client: &Client) {
    let Some(me) = client.user_id().map(ToOwned::to_owned) else { return };
    let invited = client.invited_rooms();
    if !invited.is_empty() {
        tracing::info!(rooms = invited.len(), "joining the invites that arrived while herold was not running");
    }
    for room in invited {
        let direct = match room.get_member_no_sync(&me).await {
            Ok(Some(member)) => match member.event().as_ref() {
                MemberEvent::Stripped(e) => e.content.is_direct == Some(true),
                MemberEvent::Sync(e) => e.as_original().and_then(|o| o.content.is_direct) == Some(true),
            },
            _ => false,
        };
        tokio::spawn(join(m.clone(), room, direct));
    }
}
