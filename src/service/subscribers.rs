//! Subscribers: adding with recorded consent, finding by address through the blind index, listing
//! with masked addresses, and the detail view with consent history.

use serde::{Deserialize, Serialize};

use super::{Actor, Result, Service, ServiceError};
use crate::domain::Problem;
use crate::domain::audit::Action;
use crate::domain::{Address, ChannelId, ConsentKind, SubscriberId, SubscriptionState, Transport};
use crate::store::ledger::{self, NewEvent};
use crate::store::subscribers::{self as subs, Filter, NewSubscriber, SubscriptionRow};
use crate::store::{StoreError, channels};

/// An admin or API client adding a subscriber whose consent was collected elsewhere.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSubscriber {
    pub transport: Transport,
    pub address: String,
    #[serde(default = "default_language")]
    pub language: String,
    pub channels: Vec<ChannelId>,
    /// Where and how consent was given (kept, sealed, as the ledger's inbound text).
    pub consent_note: String,
}

fn default_language() -> String {
    "de".into()
}

/// A subscriber as listed: masked addresses only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriberSummary {
    pub id: String,
    pub language: String,
    pub created_at: i64,
    pub addresses: Vec<MaskedAddress>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaskedAddress {
    pub transport: Transport,
    pub masked: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub channel_id: Option<ChannelId>,
    pub transport: Option<Transport>,
    pub gateway_message_id: Option<String>,
    /// The exact inbound text, opened with the subscriber's key; `None` after erasure or when absent.
    pub inbound_text: Option<String>,
    pub wording_version: Option<i64>,
    pub wording_sha256: Option<String>,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriberDetail {
    #[serde(flatten)]
    pub summary: SubscriberSummary,
    /// A name or note from an imported list, opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub subscriptions: Vec<SubscriptionRow>,
    pub consent: Vec<EventView>,
}

/// A subscriber ready to write.
pub(super) struct Prepared {
    pub(super) row: NewSubscriber,
    note_sealed: Vec<u8>,
    channels: Vec<ChannelId>,
}

fn mask(svc: &Service, id: i64, rows: &[subs::SealedAddress], wrapped: Option<&[u8]>) -> Vec<MaskedAddress> {
    let key = wrapped.and_then(|w| svc.vault().unwrap_data_key(SubscriberId(id), w).ok());
    rows.iter()
        .map(|a| {
            let masked = key
                .as_ref()
                .and_then(|k| k.open_string("address", &a.sealed).ok())
                .and_then(|plain| Address::from_stored(a.transport, &plain).ok())
                .map(|addr| addr.masked())
                .unwrap_or_else(|| "(unreadable)".into());
            MaskedAddress { transport: a.transport, masked }
        })
        .collect()
}

impl Service {
    /// Adds a subscriber with an active subscription per channel and an `import` ledger event each.
    pub async fn add_subscriber(&self, actor: &Actor, req: AddSubscriber) -> Result<SubscriberId> {
        Ok(self.add_subscribers(actor, vec![req]).await?.remove(0))
    }

    /// Adds many subscribers in one transaction (all or none): data keys first, in the keyring, then
    /// subscribers, addresses, subscriptions and one `import` ledger event per subscription.
    pub async fn add_subscribers(&self, actor: &Actor, reqs: Vec<AddSubscriber>) -> Result<Vec<SubscriberId>> {
        let mut rows = Vec::with_capacity(reqs.len());
        let mut seen = std::collections::HashSet::with_capacity(reqs.len());
        for req in reqs {
            let p = self.prepare(req, None)?;
            if !seen.insert(p.row.blind_index.clone()) {
                return Err(ServiceError::Conflict(Problem::new("address-twice")));
            }
            rows.push(p);
        }
        let ids: Vec<SubscriberId> = rows.iter().map(|p| SubscriberId(p.row.id)).collect();
        let (now, entry) = (
            self.now(),
            actor.audit(
                self.now(),
                Action::SubscriberAdded,
                "",
                crate::domain::Message::new("audit-subscribers-added").with("n", ids.len()).stored(),
            ),
        );
        let actor = actor.to_string();
        self.store()
            .call(move |c| {
                for p in &rows {
                    if subs::find_by_index(c, &p.row.blind_index)?.is_some() {
                        return Err(StoreError::Conflict(Problem::new("address-registered")));
                    }
                }
                let keys: Vec<NewSubscriber> = rows.iter().map(|p| p.row.clone()).collect();
                subs::insert_keys(c, &keys)?;
                let written = write_rows(c, &rows, now, &actor, entry);
                if written.is_err() {
                    // Nothing refers to the new keys: take them out again (best effort; an orphan key is harmless).
                    let _ = subs::delete_keys(c, &keys.iter().map(|k| k.id).collect::<Vec<_>>());
                }
                written
            })
            .await?;
        tracing::info!(count = ids.len(), "subscribers added");
        Ok(ids)
    }

    /// Validates one request and seals it under a fresh data key.
    /// Checks and seals a subscriber to add; `name_or_note` comes from an imported list.
    pub(super) fn prepare(&self, req: AddSubscriber, name_or_note: Option<&str>) -> Result<Prepared> {
        let address = Address::parse(req.transport, &req.address, &self.settings().default_country)?;
        if !["de", "en"].contains(&req.language.as_str()) {
            return Err(ServiceError::Invalid(Problem::new("language-unknown")));
        }
        if req.channels.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("channel-needed")));
        }
        let note = req.consent_note.trim();
        if note.is_empty() || note.chars().count() > 1000 {
            return Err(ServiceError::Invalid(Problem::new("consent-source-needed")));
        }
        let id = SubscriberId::fresh();
        let (key, wrapped) = self.vault().new_data_key(id);
        Ok(Prepared {
            row: NewSubscriber {
                id: id.0,
                language: req.language,
                wrapped_key: wrapped,
                blind_index: self.vault().blind_index(&address).to_vec(),
                transport: address.transport(),
                sealed_address: key.seal("address", address.as_str().as_bytes()),
                note_sealed: name_or_note.map(|n| key.seal("note", n.as_bytes())),
            },
            note_sealed: key.seal("inbound", note.as_bytes()),
            channels: req.channels,
        })
    }

    /// Finds a subscriber by a full address. A phone number is looked up on every phone transport.
    pub async fn find_subscriber(&self, input: &str) -> Result<Option<SubscriberId>> {
        let mut candidates = Vec::new();
        for t in Transport::ALL {
            if let Ok(a) = Address::parse(t, input, &self.settings().default_country) {
                candidates.push(self.vault().blind_index(&a).to_vec());
            }
        }
        if candidates.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("address-needed")));
        }
        let found = self
            .store()
            .call(move |c| {
                for b in &candidates {
                    if let Some(id) = subs::find_by_index(c, b)? {
                        return Ok(Some(id));
                    }
                }
                Ok(None)
            })
            .await?;
        Ok(found.map(SubscriberId))
    }

    pub async fn list_subscribers(
        &self,
        filter: Filter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SubscriberSummary>, i64)> {
        let (rows, total, keys) = self
            .store()
            .call(move |c| {
                let (rows, total) = subs::list(c, &filter, limit, offset)?;
                let keys = rows.iter().map(|r| subs::wrapped_key(c, r.id)).collect::<Result<Vec<_>, _>>()?;
                Ok((rows, total, keys))
            })
            .await?;
        let list = rows
            .iter()
            .zip(keys)
            .map(|(r, k)| SubscriberSummary {
                id: SubscriberId(r.id).to_string(),
                language: r.language.clone(),
                created_at: r.created_at,
                addresses: mask(self, r.id, &r.addresses, k.as_deref()),
            })
            .collect();
        Ok((list, total))
    }

    pub async fn subscriber_detail(&self, id: SubscriberId) -> Result<SubscriberDetail> {
        let (row, wrapped, subscriptions, events) = self
            .store()
            .call(move |c| {
                Ok((
                    subs::get(c, id.0)?,
                    subs::wrapped_key(c, id.0)?,
                    subs::subscriptions(c, id.0)?,
                    ledger::for_subscriber(c, id.0)?,
                ))
            })
            .await?;
        let key = wrapped.as_deref().and_then(|w| self.vault().unwrap_data_key(id, w).ok());
        let consent = events
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                at: e.at,
                kind: e.kind.as_str().to_string(),
                channel_id: e.channel,
                transport: e.transport,
                gateway_message_id: e.gateway_message_id,
                inbound_text: e
                    .inbound_sealed
                    .as_deref()
                    .and_then(|s| key.as_ref().and_then(|k| k.open_string("inbound", s).ok()))
                    .map(|s| s.to_string()),
                wording_version: e.wording_version,
                wording_sha256: e.wording_sha256.map(hex::encode),
                actor: e.actor,
            })
            .collect();
        let note = row
            .note_sealed
            .as_deref()
            .and_then(|s| key.as_ref().and_then(|k| k.open_string("note", s).ok()))
            .map(|n| n.to_string());
        Ok(SubscriberDetail {
            note,
            summary: SubscriberSummary {
                id: id.to_string(),
                language: row.language.clone(),
                created_at: row.created_at,
                addresses: mask(self, id.0, &row.addresses, wrapped.as_deref()),
            },
            subscriptions,
            consent,
        })
    }
}

/// Writes subscribers, addresses, subscriptions and their ledger events in one transaction.
fn write_rows(
    c: &mut rusqlite::Connection,
    rows: &[Prepared],
    now: i64,
    actor: &str,
    entry: crate::store::audit::NewAudit,
) -> Result<(), StoreError> {
    let tx = crate::store::write_tx(c)?;
    let mut channel_cache = std::collections::HashMap::new();
    for p in rows {
        subs::insert(&tx, &p.row, now)?;
        for &ch in &p.channels {
            let channel = match channel_cache.get(&ch) {
                Some(c) => c,
                None => {
                    let c = channels::by_id(&tx, ch).map_err(|e| match e {
                        StoreError::NotFound => {
                            StoreError::Refused(Problem::new("channel-missing").with("channel", ch.to_string()))
                        }
                        e => e,
                    })?;
                    channel_cache.entry(ch).or_insert(c)
                }
            };
            subs::insert_subscription(&tx, p.row.id, ch, p.row.transport, SubscriptionState::Active, now)?;
            ledger::append(
                &tx,
                NewEvent {
                    at: now,
                    subscriber: p.row.id,
                    channel: Some(ch),
                    transport: Some(p.row.transport),
                    kind: ConsentKind::Import,
                    gateway_message_id: None,
                    inbound_sealed: Some(p.note_sealed.clone()),
                    wording_version: Some(channel.wording_version),
                    wording_sha256: Some(channel.draft.wording_sha256().to_vec()),
                    actor: actor.to_string(),
                },
            )?;
        }
    }
    crate::store::audit::append(&tx, entry)?;
    tx.commit()?;
    Ok(())
}

impl Service {
    /// Changes the language a subscriber gets replies and broadcasts in (audited, with the new one).
    pub async fn set_subscriber_language(&self, actor: &Actor, id: SubscriberId, language: &str) -> Result<()> {
        let lang = crate::i18n::Lang::parse(language).ok_or(ServiceError::Invalid(Problem::new("language-unknown")))?;
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| {
                subs::get(c, id.0)?;
                subs::set_language(c, id.0, lang.code())
            },
            move |_| actor.audit(now, Action::SubscriberLanguageChanged, format!("subscriber {id}"), lang.code()),
        )
        .await
    }
}
