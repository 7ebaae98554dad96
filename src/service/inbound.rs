//! Receiving one message: the sender found (or created pseudonymously) and the message handled in one
//! savepoint of a group commit, so that a burst of webhooks shares its commits. When `receive` returns
//! `Ok`, the message, its ledger events and its replies are committed.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::conversation::{Ctx, Inbound, MAX_INBOUND_BYTES, Received, dispatch};
use super::key_stock::Spare;
use super::{Result, Service, ServiceError, Settings};
use crate::crypto::{DataKey, Vault};
use crate::domain::keywords::{self, Command, Lang};
use crate::domain::{Address, SubscriberId, Transport};
use crate::store::group::Job;
use crate::store::subscribers::{self as subs, NewSubscriber};
use crate::store::{StoreError, conversation, outbox};

impl Service {
    /// Handles one inbound message durably: when this returns `Ok`, the message, its ledger events and
    /// the replies are committed.
    pub async fn receive(&self, msg: Inbound) -> Result<Received> {
        let (arrived, transport) = (std::time::Instant::now(), msg.transport);
        let received = self.receive_counted(msg).await;
        match &received {
            Ok(r) => {
                self.metrics().inbound(transport, r.outcome.as_str());
                if r.replies > 0 {
                    self.metrics().replies_queued(r.subscriber_id, transport, r.replies, arrived);
                }
            }
            Err(_) => self.metrics().inbound(transport, "failed"),
        }
        received
    }

    async fn receive_counted(&self, msg: Inbound) -> Result<Received> {
        let address = Address::parse(msg.transport, &msg.from, &self.settings().default_country)?;
        let mut text = msg.text;
        if text.len() > MAX_INBOUND_BYTES {
            let mut cut = MAX_INBOUND_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" […]");
        }
        let (reply, answer) = oneshot::channel();
        let transport = msg.transport;
        let vault = self.vault().clone();
        self.store().submit(Box::new(Receive {
            blind: vault.blind_index(&address).to_vec(),
            command: keywords::parse(&text),
            vault,
            settings: self.settings().clone(),
            transport: msg.transport,
            gateway_id: msg.gateway_message_id,
            room: msg.room,
            address,
            text,
            now: self.now(),
            spare: self.take_spare(),
            service: self.clone(),
            created: None,
            created_id: None,
            used: None,
            received: None,
            reply,
        }));
        let received =
            answer.await.map_err(|_| ServiceError::Internal("the message was dropped unanswered".into()))??;
        if received.outcome == super::conversation::Outcome::OptedOut {
            // A row of theirs that a lane holds must not go out after their STOP.
            self.revoke_leases();
        }
        if received.replies > 0 {
            self.wake_lane(transport);
        }
        tracing::info!(subscriber = %received.subscriber, outcome = ?received.outcome, "inbound message handled");
        Ok(received)
    }
}

/// One inbound message as a job of the group writer.
struct Receive {
    vault: Arc<Vault>,
    settings: Settings,
    transport: Transport,
    gateway_id: Option<String>,
    /// The private room the message came from (Matrix DM).
    room: Option<String>,
    address: Address,
    blind: Vec<u8>,
    text: String,
    command: Command,
    now: i64,
    /// A data key already in the keyring, for the case that the sender is new (see `key_stock`).
    spare: Option<Spare>,
    /// For the stock: a spare not used goes back, a used one is recorded.
    service: Service,
    /// A subscriber for a first contact: its data key is committed in the keys step (or was, as a
    /// spare), its rows here.
    created: Option<(NewSubscriber, DataKey)>,
    /// A key this job wrote itself (not a spare), removed if it ends up unused.
    created_id: Option<i64>,
    /// The subscriber the message was handled for.
    used: Option<i64>,
    received: Option<Received>,
    reply: oneshot::Sender<Result<Received, StoreError>>,
}

impl Job for Receive {
    /// A first contact gets its data key now, before any row refers to it: a spare already on disk,
    /// or else one written here (in the group's keys transaction).
    fn keys(&mut self, c: &Connection) -> Result<(), StoreError> {
        if subs::find_by_index(c, &self.blind)?.is_some() {
            return Ok(());
        }
        let (id, key, wrapped) = match &self.spare {
            Some((id, wrapped)) => {
                let id = SubscriberId(*id);
                (id, self.vault.unwrap_data_key(id, wrapped)?, wrapped.clone())
            }
            None => {
                let id = SubscriberId::fresh();
                let (key, wrapped) = self.vault.new_data_key(id);
                subs::insert_key(c, id.0, &wrapped)?;
                self.created_id = Some(id.0);
                (id, key, wrapped)
            }
        };
        let row = NewSubscriber {
            id: id.0,
            language: self.settings.default_language.clone(),
            wrapped_key: wrapped,
            blind_index: self.blind.clone(),
            transport: self.address.transport(),
            sealed_address: key.seal("address", self.address.as_str().as_bytes()),
            note_sealed: None,
        };
        self.created = Some((row, key));
        Ok(())
    }

    fn write(&mut self, c: &Connection) -> Result<(), StoreError> {
        let now = self.now;
        // Looked up again: an earlier message of the same group may have created this sender.
        let (subscriber, key) = match subs::find_by_index(c, &self.blind)? {
            Some(id) => {
                let wrapped = subs::wrapped_key(c, id)?
                    .ok_or_else(|| StoreError::Corrupt("a subscriber has no data key".into()))?;
                (id, self.vault.unwrap_data_key(SubscriberId(id), &wrapped)?)
            }
            // Known at the keys step and erased since: rare; the gateway tries again.
            None => match self.created.take() {
                Some((row, key)) => {
                    subs::insert(c, &row, now)?;
                    (row.id, key)
                }
                None => return Err(StoreError::Busy),
            },
        };
        self.used = Some(subscriber);
        let answer = |outcome, replies| Received {
            subscriber: SubscriberId(subscriber).to_string(),
            subscriber_id: subscriber,
            outcome,
            replies,
        };
        if let Some(g) = &self.gateway_id
            && !conversation::first_time(c, self.transport, g, now)?
        {
            self.received = Some(answer(super::conversation::Outcome::Duplicate, 0));
            return Ok(());
        }
        if let Some(room) = &self.room {
            // Where they wrote is where they are answered, now and after any restart.
            subs::set_room(c, subscriber, self.transport, &key.seal(super::delivery::ROOM_AAD, room.as_bytes()))?;
        }
        let (stored_lang, _) = subs::language_and_since(c, subscriber)?;
        let lang = match &self.command {
            Command::Keyword { lang: Some(l), .. } => {
                subs::set_language(c, subscriber, l.code())?;
                *l
            }
            _ => Lang::parse(&stored_lang).unwrap_or(Lang::De),
        };
        let mut ctx = Ctx {
            inbound_sealed: key.seal("inbound", self.text.as_bytes()),
            key,
            subscriber,
            transport: self.transport,
            lang,
            now,
            gateway_id: self.gateway_id.clone(),
            replies: vec![],
            confirm_hours: self.settings.confirm_hours,
            zone: self.settings.zone.clone(),
            normalised: keywords::normalise(&self.text),
            answers: vec![],
            hand_off: self.settings.hand_off,
            team_lang: Lang::parse(&self.settings.default_language).unwrap_or(Lang::De),
            sender: self.settings.notice.controller.clone(),
        };
        if self.transport == Transport::Sandbox {
            conversation::insert_sandbox_inbound(c, subscriber, &ctx.inbound_sealed, now)?;
        }
        let outcome = dispatch(c, &mut ctx, &self.command, self.settings.auto_reply)?;
        let via = crate::domain::hook::gateway_of(self.transport, self.gateway_id.as_deref());
        for r in &ctx.replies {
            let sealed = ctx.key.seal("reply", r.as_bytes());
            outbox::enqueue_reply(c, subscriber, self.transport, via.as_deref(), &sealed, now)?;
        }
        for (author, text) in &ctx.answers {
            let sealed = ctx.key.seal(super::threads::ANSWER_AAD, text.as_bytes());
            crate::store::threads::add_answer(c, subscriber, self.transport, author, &sealed, now)?;
        }
        self.received = Some(answer(outcome, ctx.replies.len()));
        Ok(())
    }

    fn unused_keys(&self, written: bool) -> Vec<i64> {
        match self.created_id {
            Some(id) if !written || self.used != Some(id) => vec![id],
            _ => vec![],
        }
    }

    fn finish(self: Box<Self>, result: Result<(), StoreError>) {
        let Receive { received, reply, spare, service, used, .. } = *self;
        if let Some((id, wrapped)) = spare {
            match result {
                Ok(()) if used == Some(id) => service.key_stock().used(id),
                _ => service.key_stock().put_back((id, wrapped)),
            }
        }
        let answer = result.and_then(|()| received.ok_or_else(|| StoreError::Task("no answer".into())));
        // The caller may have gone (a dropped request); the message is stored all the same.
        let _ = reply.send(answer);
    }
}
