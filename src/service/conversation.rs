//! The inbound pipeline every transport feeds: address → subscriber (created pseudonymously on first
//! contact) → keyword grammar → opt-in, confirmation, opt-out, help, data request, or the admin inbox.
//! Every consent step is a ledger event with the exact text (sealed); every reply goes through the outbox.

use rusqlite::Connection;
use serde::Serialize;

use super::{Actor, Result, Service, ServiceError};
use crate::crypto::DataKey;
use crate::domain::Problem;
use crate::domain::audit::Action;
use crate::domain::keywords::{Command, Lang, Verb};
use crate::domain::{Channel, ConsentKind, OptInMode, SubscriberId, SubscriptionState, Transport};
use crate::i18n::replies;
use crate::store::ledger::{self, NewEvent};
use crate::store::subscribers as subs;
use crate::store::{StoreError, answers, channels, conversation, outbox, privacy, threads};

/// Longest inbound text kept (longer texts are cut, and the cut is marked).
pub const MAX_INBOUND_BYTES: usize = 16 * 1024;

/// A message that arrived on a transport.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub transport: Transport,
    /// The sender as the transport gives it (a phone number or Matrix id).
    pub from: String,
    pub text: String,
    /// The gateway's id for this message: a retry with the same id is recognised and ignored.
    pub gateway_message_id: Option<String>,
    /// The private room it was written in (a Matrix DM): stored with the sender, and where every
    /// message to them goes from now on.
    pub room: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// Seen before (same gateway message id): nothing done again.
    Duplicate,
    Pending,
    Subscribed,
    AlreadySubscribed,
    OptedOut,
    NotSubscribed,
    ChooseChannel,
    Help,
    MyData,
    /// DELETE / LÖSCHEN: asked to confirm with YES / JA.
    DeleteRequested,
    /// YES / JA to DELETE: the last reply is queued; the data is destroyed once it has left.
    Erasing,
    Inbox,
    /// A keyword answer was sent.
    KeywordAnswer,
}

impl Outcome {
    /// As the API and `/metrics` name it (`opted_out`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub subscriber: String,
    /// The subscriber's row (not shown: it pairs a reply with its message for `/metrics`).
    #[serde(skip)]
    pub subscriber_id: i64,
    pub outcome: Outcome,
    pub replies: usize,
}

pub(super) struct Ctx {
    pub key: DataKey,
    pub subscriber: i64,
    pub transport: Transport,
    pub lang: Lang,
    pub now: i64,
    pub inbound_sealed: Vec<u8>,
    pub gateway_id: Option<String>,
    pub replies: Vec<String>,
    pub confirm_hours: i64,
    /// The installation's zone, for times in replies.
    pub zone: crate::domain::zone::Zone,
    /// The text as the grammar reads it (for keyword answers); none for a text too long.
    pub normalised: Option<String>,
    /// Replies that belong to the conversation (keyword answers, the first answer): author and text.
    pub answers: Vec<(String, String)>,
    pub hand_off: super::HandOff,
    /// The language of notices to the team room (the installation's default language).
    pub team_lang: Lang,
    /// Who signs the help text: the organisation (`privacy.controller`), else herold.
    pub sender: String,
}

impl Ctx {
    /// A reply that belongs to the conversation: sent, and kept in it with its author.
    fn say(&mut self, author: String, text: String) {
        self.replies.push(text.clone());
        self.answers.push((author, text));
    }

    /// Keeps the inbound text (sealed) in the admin inbox.
    fn to_inbox(&self, c: &Connection) -> Result<i64, StoreError> {
        conversation::insert_inbox(
            c,
            self.subscriber,
            self.transport,
            self.gateway_id.as_deref(),
            &self.inbound_sealed,
            self.now,
        )
    }

    fn event(&self, kind: ConsentKind, ch: &Channel) -> NewEvent {
        NewEvent {
            at: self.now,
            subscriber: self.subscriber,
            channel: Some(ch.id),
            transport: Some(self.transport),
            kind,
            gateway_message_id: self.gateway_id.clone(),
            inbound_sealed: Some(self.inbound_sealed.clone()),
            wording_version: Some(ch.wording_version),
            wording_sha256: Some(ch.draft.wording_sha256().to_vec()),
            actor: "subscriber".into(),
        }
    }
}

impl Service {
    /// Expires pending opt-ins past their time; returns how many.
    pub async fn expire_pending(&self) -> Result<usize> {
        let now = self.now();
        Ok(self
            .store()
            .call(move |c| {
                let due = subs::due_expiries(c, now, 1000)?;
                let tx = crate::store::write_tx(c)?;
                for (id, subscriber, channel) in &due {
                    subs::set_state(&tx, *id, SubscriptionState::Expired, now)?;
                    let ch = channels::by_id(&tx, *channel)?;
                    ledger::append(
                        &tx,
                        NewEvent {
                            at: now,
                            subscriber: *subscriber,
                            channel: Some(*channel),
                            transport: None,
                            kind: ConsentKind::OptInExpired,
                            gateway_message_id: None,
                            inbound_sealed: None,
                            wording_version: Some(ch.wording_version),
                            wording_sha256: Some(ch.draft.wording_sha256().to_vec()),
                            actor: "system".into(),
                        },
                    )?;
                }
                tx.commit()?;
                Ok(due.len())
            })
            .await?)
    }
}

/// Channels one can join on this transport.
fn open_channels(c: &Connection, t: Transport) -> Result<Vec<Channel>, StoreError> {
    Ok(channels::list(c)?.into_iter().filter(|ch| ch.draft.transports.contains(&t)).collect())
}

pub(super) fn dispatch(
    c: &Connection,
    ctx: &mut Ctx,
    command: &Command,
    auto_reply: bool,
) -> Result<Outcome, StoreError> {
    let Command::Keyword { verb, channel, all, .. } = command else {
        privacy::request_erasure(c, ctx.subscriber, None)?;
        ctx.to_inbox(c)?;
        let asked = match &ctx.normalised {
            Some(n) => answers::ask(c, n, ctx.subscriber)?,
            None => None,
        };
        if let Some(a) = asked {
            // Answered by herold: kept in the conversation, which does not open for the team.
            threads::arrived(c, ctx.subscriber, ctx.transport, false, ctx.now)?;
            ctx.say(format!("keyword:{}", a.id), a.text(ctx.lang).to_string());
            return Ok(Outcome::KeywordAnswer);
        }
        let for_team = ctx.hand_off.open_for_team;
        let opened = threads::arrived(c, ctx.subscriber, ctx.transport, for_team, ctx.now)?;
        if for_team {
            tell_the_team(c, ctx)?;
        }
        if auto_reply {
            ctx.say("herold".into(), replies::received(ctx.lang));
        } else if opened && ctx.hand_off.first_answer {
            let open = ctx.hand_off.office_hours.is_none_or(|o| o.open_at(ctx.zone.tz(), ctx.now));
            let text = match ctx.hand_off.office_hours {
                Some(o) if !open => replies::handoff_closed(ctx.lang, &o.from.to_string()),
                _ => replies::handoff(ctx.lang),
            };
            ctx.say("herold".into(), text);
        }
        return Ok(Outcome::Inbox);
    };
    // An erasure request waits for YES / JA; anything else said after it withdraws it.
    if let Some(asked) = privacy::erasure_requested(c, ctx.subscriber)? {
        privacy::request_erasure(c, ctx.subscriber, None)?;
        if *verb == Verb::Yes && ctx.now - asked < ctx.confirm_hours * 3600 {
            privacy::confirm_erasure(c, ctx.subscriber, ctx.now)?;
            ctx.replies.push(replies::erased(ctx.lang));
            // Nothing more goes out to this address: its subscriptions end now, the rest when the reply has left.
            for s in subs::live(c, ctx.subscriber)? {
                subs::set_state(c, s.id, SubscriptionState::Unsubscribed, ctx.now)?;
            }
            outbox::cancel_for_subscriber(c, ctx.subscriber, ctx.now)?;
            return Ok(Outcome::Erasing);
        }
    }
    let live = subs::live(c, ctx.subscriber)?;
    match verb {
        Verb::Yes if live.iter().any(|s| s.state == SubscriptionState::Pending) => {
            for s in live.iter().filter(|s| s.state == SubscriptionState::Pending) {
                let ch = channels::by_id(c, s.channel_id)?;
                subs::set_state(c, s.id, SubscriptionState::Active, ctx.now)?;
                ledger::append(c, ctx.event(ConsentKind::OptInConfirmed, &ch))?;
                ctx.replies.push(replies::welcome(&ch, ctx.lang));
            }
            Ok(Outcome::Subscribed)
        }
        Verb::OptIn | Verb::Yes => opt_in(c, ctx, channel.as_deref(), &live),
        Verb::OptOut => {
            let mut leaving = Vec::new();
            for s in &live {
                let ch = channels::by_id(c, s.channel_id)?;
                if *all || channel.is_none() || channel.as_deref() == Some(ch.draft.keyword.as_str()) {
                    leaving.push((s.id, ch));
                }
            }
            if leaving.is_empty() {
                ctx.replies.push(replies::not_subscribed(ctx.lang));
                return Ok(Outcome::NotSubscribed);
            }
            // The confirmation is queued first (replies go ahead of broadcasts) and is the last message:
            // the same transaction cancels every queued broadcast delivery this address no longer wants.
            let names: Vec<String> = leaving.iter().map(|(_, ch)| ch.draft.name.clone()).collect();
            ctx.replies.push(replies::goodbye(&names, ctx.lang));
            for (id, ch) in &leaving {
                subs::set_state(c, *id, SubscriptionState::Unsubscribed, ctx.now)?;
                ledger::append(c, ctx.event(ConsentKind::OptOut, ch))?;
            }
            // STOP in the middle of a conversation ends it too.
            threads::close_for(c, ctx.subscriber, ctx.transport, ctx.now)?;
            outbox::cancel_for_subscriber(c, ctx.subscriber, ctx.now)?;
            Ok(Outcome::OptedOut)
        }
        Verb::Help => {
            let mut active = Vec::new();
            for s in live.iter().filter(|s| s.state == SubscriptionState::Active) {
                let ch = channels::by_id(c, s.channel_id)?;
                active.push((ch.draft.name.clone(), ch.draft.keyword.clone()));
            }
            let words: Vec<String> =
                answers::for_subscriber(c, ctx.subscriber)?.into_iter().map(|a| a.answer.keyword).collect();
            ctx.replies.push(replies::help(&ctx.sender, &active, &words, ctx.lang));
            Ok(Outcome::Help)
        }
        Verb::MyData => {
            let (_, created) = subs::language_and_since(c, ctx.subscriber)?;
            let since = ctx.zone.when(created);
            let mut names = Vec::new();
            for s in &live {
                names.push(channels::by_id(c, s.channel_id)?.draft.name);
            }
            let inbox = conversation::inbox_count_for(c, ctx.subscriber)? as usize;
            ctx.replies.push(replies::my_data(&since, &names, inbox, ctx.lang));
            Ok(Outcome::MyData)
        }
        Verb::Delete => {
            privacy::request_erasure(c, ctx.subscriber, Some(ctx.now))?;
            ctx.replies.push(replies::delete_confirm(ctx.lang, ctx.confirm_hours));
            Ok(Outcome::DeleteRequested)
        }
    }
}

/// Queues a notice for the team room, if there is one: the conversation's number and the person's
/// channels, never the text or who wrote it.
fn tell_the_team(c: &Connection, ctx: &Ctx) -> Result<(), StoreError> {
    if crate::store::team::room(c)?.is_none() {
        return Ok(());
    }
    let Some(thread) = threads::of(c, ctx.subscriber, ctx.transport)? else { return Ok(()) };
    let mut names = Vec::new();
    for s in subs::live(c, ctx.subscriber)? {
        names.push(channels::by_id(c, s.channel_id)?.draft.name);
    }
    let text = replies::team_notice(ctx.team_lang, thread.0, &names);
    crate::store::team::enqueue(c, &text, ctx.now)
}

fn opt_in(
    c: &Connection,
    ctx: &mut Ctx,
    keyword: Option<&str>,
    live: &[subs::LiveSubscription],
) -> Result<Outcome, StoreError> {
    let open = open_channels(c, ctx.transport)?;
    let chosen = match keyword {
        Some(k) => open.iter().find(|ch| ch.draft.keyword == k),
        None if open.len() == 1 => open.first(),
        None => None,
    };
    let Some(ch) = chosen else {
        let kws: Vec<String> = open.iter().map(|ch| ch.draft.keyword.clone()).collect();
        ctx.replies.push(replies::choose_channel(&kws, ctx.lang));
        return Ok(Outcome::ChooseChannel);
    };
    if let Some(s) = live.iter().find(|s| s.channel_id == ch.id) {
        if s.state == SubscriptionState::Active {
            ctx.replies.push(replies::already(ch, ctx.lang));
            return Ok(Outcome::AlreadySubscribed);
        }
        // Pending: ask again, without a second request event.
        ctx.replies.push(replies::confirm_request(ch, ctx.lang, ctx.confirm_hours));
        return Ok(Outcome::Pending);
    }
    match ch.draft.opt_in {
        OptInMode::Double => {
            let expires = ctx.now + ctx.confirm_hours * 3600;
            subs::insert_subscription_until(
                c,
                ctx.subscriber,
                ch.id,
                ctx.transport,
                SubscriptionState::Pending,
                ctx.now,
                Some(expires),
            )?;
            ledger::append(c, ctx.event(ConsentKind::OptInRequested, ch))?;
            ctx.replies.push(replies::confirm_request(ch, ctx.lang, ctx.confirm_hours));
            Ok(Outcome::Pending)
        }
        OptInMode::Single => {
            subs::insert_subscription(c, ctx.subscriber, ch.id, ctx.transport, SubscriptionState::Active, ctx.now)?;
            ledger::append(c, ctx.event(ConsentKind::OptInConfirmed, ch))?;
            ctx.replies.push(replies::welcome(ch, ctx.lang));
            Ok(Outcome::Subscribed)
        }
    }
}

/// A line on a sandbox phone's screen, opened.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenLine {
    pub at: i64,
    /// Typed by the phone (true) or sent by herold.
    pub inbound: bool,
    pub text: String,
    pub state: String,
}

/// An inbox message, opened for admins.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxMessage {
    pub id: i64,
    pub subscriber: String,
    pub transport: Transport,
    pub text: String,
    pub received_at: i64,
}

impl Service {
    /// The sandbox phones: pseudonymous id and number.
    pub async fn sandbox_phones(&self) -> Result<Vec<(String, String)>> {
        let vault = self.vault().clone();
        Ok(self
            .store()
            .call(move |c| {
                let mut out = Vec::new();
                for (id, sealed) in conversation::sandbox_phones(c)? {
                    let Some(w) = subs::wrapped_key(c, id)? else { continue };
                    let key = vault.unwrap_data_key(SubscriberId(id), &w)?;
                    out.push((SubscriberId(id).to_string(), key.open_string("address", &sealed)?.to_string()));
                }
                Ok(out)
            })
            .await?)
    }

    /// The last messages on one sandbox phone's screen, oldest first.
    pub async fn sandbox_screen(&self, phone: SubscriberId) -> Result<Vec<ScreenLine>> {
        let vault = self.vault().clone();
        Ok(self
            .store()
            .call(move |c| {
                let Some(w) = subs::wrapped_key(c, phone.0)? else { return Ok(vec![]) };
                let key = vault.unwrap_data_key(phone, &w)?;
                let lines = conversation::sandbox_screen(c, phone.0, 100)?;
                Ok(lines
                    .into_iter()
                    .map(|l| {
                        let text = match (&l.sealed, l.plain) {
                            (Some(s), _) => key
                                .open_string(if l.inbound { "inbound" } else { "reply" }, s)
                                .map(|t| t.to_string())
                                .unwrap_or_else(|_| "(unreadable)".into()),
                            (None, Some(p)) => p,
                            (None, None) => String::new(),
                        };
                        ScreenLine { at: l.at, inbound: l.inbound, text, state: l.state }
                    })
                    .collect())
            })
            .await?)
    }

    /// An admin's answer to an inbox message: one direct message to its sender over the same transport
    /// (on Matrix, into the same DM), sealed like every reply and sent ahead of broadcasts. Refused
    /// once the sender has opted out since writing, or was erased. Audited without its text.
    pub async fn reply_to_inbox(&self, actor: &Actor, inbox_id: i64, text: &str) -> Result<()> {
        let text = text.trim().to_string();
        if text.is_empty() || text.chars().count() > 1600 {
            return Err(ServiceError::Invalid(Problem::new("reply-length")));
        }
        let (vault, now) = (self.vault().clone(), self.now());
        let entry = actor.audit(now, Action::InboxReplied, format!("inbox message {inbox_id}"), "");
        let author = actor.to_string();
        let refused = self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let Some(m) = conversation::inbox_message(&tx, inbox_id)? else {
                    return Err(crate::store::StoreError::NotFound);
                };
                let Some(wrapped) = subs::wrapped_key(&tx, m.subscriber_id)? else {
                    return Ok(Some(Problem::new("sender-erased")));
                };
                if conversation::opted_out_since(&tx, m.subscriber_id, m.received_at)? {
                    return Ok(Some(Problem::new("sender-opted-out")));
                }
                let key = vault.unwrap_data_key(SubscriberId(m.subscriber_id), &wrapped)?;
                let via = crate::domain::hook::gateway_of(m.transport, m.gateway_message_id.as_deref());
                let sealed = key.seal("reply", text.as_bytes());
                outbox::enqueue_reply(&tx, m.subscriber_id, m.transport, via.as_deref(), &sealed, now)?;
                // Kept in their conversation, with who wrote it.
                let sealed = key.seal(super::threads::ANSWER_AAD, text.as_bytes());
                threads::add_answer(&tx, m.subscriber_id, m.transport, &author, &sealed, now)?;
                crate::store::audit::append(&tx, entry)?;
                tx.commit()?;
                Ok(None)
            })
            .await?;
        if let Some(why) = refused {
            return Err(ServiceError::Conflict(why));
        }
        self.wake_worker();
        Ok(())
    }

    /// The admin inbox, newest first, with texts opened.
    pub async fn inbox(&self, limit: i64, offset: i64) -> Result<(Vec<InboxMessage>, i64)> {
        let vault = self.vault().clone();
        Ok(self
            .store()
            .call(move |c| {
                let (rows, total) = conversation::inbox(c, limit, offset)?;
                let out = rows.into_iter().map(|r| opened(c, &vault, r)).collect::<crate::store::Result<_>>()?;
                Ok((out, total))
            })
            .await?)
    }

    /// One inbox message with its text (what the `inbox.message` webhook event points to).
    pub async fn inbox_message(&self, id: i64) -> Result<InboxMessage> {
        let vault = self.vault().clone();
        Ok(self
            .store()
            .call(move |c| match conversation::inbox_message(c, id)? {
                Some(r) => opened(c, &vault, r),
                None => Err(StoreError::NotFound),
            })
            .await?)
    }
}

/// An inbox row with its text opened (or a word for why it cannot be).
fn opened(
    c: &rusqlite::Connection,
    vault: &crate::crypto::Vault,
    r: conversation::InboxRow,
) -> crate::store::Result<InboxMessage> {
    let id = SubscriberId(r.subscriber_id);
    let text = match subs::wrapped_key(c, r.subscriber_id)? {
        Some(w) => vault
            .unwrap_data_key(id, &w)?
            .open_string("inbound", &r.text_sealed)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "(unreadable)".into()),
        None => "(erased)".into(),
    };
    Ok(InboxMessage { id: r.id, subscriber: id.to_string(), transport: r.transport, text, received_at: r.received_at })
}
