//! The export (GDPR Art. 15 and 20): everything herold holds about one subscriber, opened, as one
//! document for JSON and for the readable page. Every export is an audit event.

use serde::Serialize;

use super::{Actor, Result, Service};
use crate::domain::audit::Action;
use crate::domain::clock::rfc3339;
use crate::domain::{DeliveryState, SubscriberId, SubscriptionState, Transport};
use crate::store::{audit, channels, conversation, ledger, outbox, subscribers as subs};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Export {
    /// The format of this document.
    pub format: &'static str,
    pub generated_at: String,
    pub subscriber: String,
    pub language: String,
    pub first_contact: String,
    /// A name or note from an imported member list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub addresses: Vec<ExportAddress>,
    pub subscriptions: Vec<ExportSubscription>,
    /// Every consent event, with the message that caused it and the wording that was shown.
    pub consent: Vec<ExportConsent>,
    pub deliveries: Vec<ExportDelivery>,
    pub inbox: Vec<ExportMessage>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportAddress {
    pub transport: Transport,
    pub address: String,
    /// The Matrix DM room herold reaches them in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportSubscription {
    pub channel: String,
    pub transport: Transport,
    pub state: SubscriptionState,
    pub since: String,
    pub changed: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportConsent {
    pub at: String,
    pub kind: String,
    pub channel: Option<String>,
    pub transport: Option<Transport>,
    pub gateway_message_id: Option<String>,
    /// The exact message (or, for a subscriber added by hand, the note on how consent was given).
    pub message: Option<String>,
    pub wording_version: Option<i64>,
    /// The channel's wording at that version, as shown (canonical JSON); for a list import, the
    /// import's consent source.
    pub wording: Option<serde_json::Value>,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportDelivery {
    /// The broadcast, or none for a direct reply.
    pub broadcast: Option<crate::domain::BroadcastId>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub transport: Transport,
    pub state: DeliveryState,
    pub attempts: i64,
    pub changed: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportMessage {
    pub received: String,
    pub transport: Transport,
    pub text: String,
}

impl Service {
    /// Builds the export of one subscriber and records it in the audit log (`how`: json or page).
    pub async fn export_subscriber(&self, actor: &Actor, id: SubscriberId, how: &str) -> Result<Export> {
        let now = self.now();
        let how = if how == "json" { "audit-export-json" } else { "audit-export-page" };
        let entry =
            actor.audit(now, Action::Export, format!("subscriber {id}"), crate::domain::Message::new(how).stored());
        let vault = self.vault().clone();
        let export = self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let row = subs::get(&tx, id.0)?;
                let wrapped = subs::wrapped_key(&tx, id.0)?.ok_or(crate::store::StoreError::NotFound)?;
                let key = vault.unwrap_data_key(id, &wrapped)?;
                let open = |purpose: &str, sealed: &[u8]| {
                    key.open_string(purpose, sealed).map(|s| s.to_string()).unwrap_or_else(|_| "(unreadable)".into())
                };
                let addresses = row
                    .addresses
                    .iter()
                    .map(|a| ExportAddress {
                        transport: a.transport,
                        address: open("address", &a.sealed),
                        room: a.room.as_deref().map(|r| open(super::delivery::ROOM_AAD, r)),
                    })
                    .collect();
                let mut names = std::collections::HashMap::new();
                for ch in channels::list(&tx)? {
                    names.insert(ch.id, ch.draft.name.clone());
                }
                let subscriptions = subs::subscriptions(&tx, id.0)?
                    .into_iter()
                    .map(|s| ExportSubscription {
                        channel: s.channel_name,
                        transport: s.transport,
                        state: s.state,
                        since: rfc3339(s.created_at),
                        changed: rfc3339(s.updated_at),
                    })
                    .collect();
                let mut consent = Vec::new();
                for e in ledger::for_subscriber(&tx, id.0)? {
                    let wording = match (e.channel, e.wording_version) {
                        (Some(ch), Some(v)) => {
                            let text = channels::wording(&tx, ch, v)?;
                            Some(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
                        }
                        _ => None,
                    };
                    consent.push(ExportConsent {
                        at: rfc3339(e.at),
                        kind: e.kind.as_str().into(),
                        channel: e.channel.map(|ch| names.get(&ch).cloned().unwrap_or_else(|| format!("channel {ch}"))),
                        transport: e.transport,
                        gateway_message_id: e.gateway_message_id,
                        message: e.inbound_sealed.as_deref().map(|s| open("inbound", s)),
                        wording_version: e.wording_version,
                        wording,
                        actor: e.actor,
                    });
                }
                let deliveries = outbox::for_subscriber(&tx, id.0)?
                    .into_iter()
                    .map(|d| ExportDelivery {
                        broadcast: d.broadcast_id,
                        title: d.title.filter(|t| !t.is_empty()),
                        text: d.broadcast_text.or_else(|| d.body_sealed.as_deref().map(|s| open("reply", s))),
                        transport: d.transport,
                        state: d.state,
                        attempts: d.attempts,
                        changed: rfc3339(d.updated_at),
                    })
                    .collect();
                let inbox = conversation::inbox_for(&tx, id.0)?
                    .into_iter()
                    .map(|m| ExportMessage {
                        received: rfc3339(m.received_at),
                        transport: m.transport,
                        text: open("inbound", &m.text_sealed),
                    })
                    .collect();
                audit::append(&tx, entry)?;
                tx.commit()?;
                Ok(Export {
                    format: "herold-export-1",
                    generated_at: rfc3339(now),
                    subscriber: id.to_string(),
                    language: row.language,
                    first_contact: rfc3339(row.created_at),
                    note: row.note_sealed.as_deref().map(|s| open("note", s)),
                    addresses,
                    subscriptions,
                    consent,
                    deliveries,
                    inbox,
                })
            })
            .await?;
        tracing::info!(subscriber = %id, how, "subscriber exported");
        Ok(export)
    }
}
