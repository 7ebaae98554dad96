//! SMS gateways seen from the use cases: their webhooks (authenticated by the gateway's reader, then
//! stored durably before the answer) and an opt-out a provider reports on send.

use std::collections::HashMap;
use std::sync::Arc;

use super::conversation::Inbound;
use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::health::Health;
use crate::domain::hook::{HookError, HookEvent, HookRequest, StatusSource, Webhook};
use crate::domain::{ConsentKind, Reason, SubscriptionState, Transport};
use crate::store::ledger::{self, NewEvent};
use crate::store::subscribers as subs;
use crate::store::{channels, outbox};

/// Why a webhook got no 2xx.
#[derive(Debug, thiserror::Error)]
pub enum HookFailure {
    #[error("no SMS gateway has that name")]
    UnknownGateway,
    #[error(transparent)]
    Refused(#[from] HookError),
    /// The sender is not a valid phone number (the reason names no digits).
    #[error("{0}")]
    Invalid(String),
    /// Nothing was stored; the gateway should try again.
    #[error("storage is unavailable; try again")]
    Unavailable,
}

/// A route that reports about itself: an SMS gateway by its name, or the Matrix bot.
#[derive(Clone)]
pub struct RouteSource {
    pub name: String,
    pub transport: Transport,
    pub source: Arc<dyn StatusSource>,
}

/// What a webhook that was handled should answer.
#[derive(Debug, Clone)]
pub struct HookAnswer {
    pub content_type: &'static str,
    pub body: &'static str,
}

impl Service {
    /// Installs the gateways' webhook readers (done once by the app).
    pub fn set_webhooks(&self, hooks: HashMap<String, Arc<dyn Webhook>>) {
        *self.inner.webhooks.lock().expect("webhooks lock") = hooks;
    }

    /// Per SMS gateway (by name): what to set up on its side.
    pub fn gateway_setup(&self) -> Vec<(String, crate::domain::hook::SetupHint)> {
        let hooks = self.inner.webhooks.lock().expect("webhooks lock");
        let mut out: Vec<_> = hooks.iter().map(|(n, h)| (n.clone(), h.setup_hint())).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Authenticates and reads a gateway's webhook, then stores what it says. Returns only after every
    /// event is committed; a retry of the same message (same gateway id) is recognised and not stored twice.
    pub async fn gateway_hook(&self, gateway: &str, req: HookRequest) -> Result<HookAnswer, HookFailure> {
        let answer = self.gateway_hook_uncounted(gateway, req).await;
        let result = match &answer {
            Ok(_) => "stored",
            Err(HookFailure::UnknownGateway) => return answer, // a name from the URL: not a label
            Err(HookFailure::Refused(_)) => "refused",
            Err(HookFailure::Invalid(_)) => "invalid",
            Err(HookFailure::Unavailable) => "unavailable",
        };
        self.metrics().gateway_hook(gateway, result);
        answer
    }

    async fn gateway_hook_uncounted(&self, gateway: &str, req: HookRequest) -> Result<HookAnswer, HookFailure> {
        let hook = self.inner.webhooks.lock().expect("webhooks lock").get(gateway).cloned();
        let hook = hook.ok_or(HookFailure::UnknownGateway)?;
        let events = hook.read(&req)?;
        for event in events {
            let stored = match event {
                HookEvent::Inbound { from, text, id } | HookEvent::Direct { from, text, id, .. } => self
                    .receive(Inbound {
                        transport: Transport::Sms,
                        from,
                        text,
                        gateway_message_id: Some(format!("{gateway}:{id}")),
                        room: None,
                    })
                    .await
                    .map(|_| ()),
                HookEvent::Report { gateway_id, delivered: Some(delivered), error } => self
                    .delivery_report(Transport::Sms, &format!("{gateway}:{gateway_id}"), delivered, error)
                    .await
                    .map(|_| ()),
                HookEvent::Report { delivered: None, .. } => Ok(()),
                HookEvent::Held { gateway_id } => {
                    self.delivery_held(Transport::Sms, gateway, &format!("{gateway}:{gateway_id}")).await.map(|_| ())
                }
                HookEvent::Left { from, id, how } => {
                    self.left_on_transport(Transport::Sms, &from, &format!("{gateway}:{id}"), how).await.map(|_| ())
                }
            };
            match stored {
                Ok(()) => {}
                Err(ServiceError::Invalid(m)) => return Err(HookFailure::Invalid(m.to_string())),
                Err(e) => {
                    tracing::error!(gateway, error = %e, "a webhook could not be stored; answering 503");
                    return Err(HookFailure::Unavailable);
                }
            }
        }
        let (content_type, body) = hook.success();
        Ok(HookAnswer { content_type, body })
    }

    /// An event from a transport that reads its own inbound side (the Matrix bot's sync loop).
    pub async fn transport_event(&self, transport: Transport, ev: HookEvent) -> Result<()> {
        match ev {
            HookEvent::Inbound { from, text, id } => self
                .receive(Inbound { transport, from, text, gateway_message_id: Some(id), room: None })
                .await
                .map(|_| ()),
            HookEvent::Direct { from, text, id, room } => self
                .receive(Inbound { transport, from, text, gateway_message_id: Some(id), room: Some(room) })
                .await
                .map(|_| ()),
            HookEvent::Left { from, id, how } => self.left_on_transport(transport, &from, &id, how).await.map(|_| ()),
            HookEvent::Report { .. } | HookEvent::Held { .. } => Ok(()),
        }
    }

    /// What each transport that reports details (the Matrix bot) says about itself, for the
    /// Gateways page.
    pub fn transport_status(&self) -> Vec<(String, Vec<(crate::domain::Message, crate::domain::Message)>)> {
        let sources = self.inner.status_sources.lock().expect("status lock");
        sources
            .iter()
            .filter(|r| r.transport == Transport::Matrix)
            .map(|r| (r.name.clone(), r.source.status()))
            .collect()
    }

    /// Whether each route (SMS gateway, the Matrix bot) answers, as its last send or check found.
    pub fn route_health(&self) -> Vec<(String, Transport, Health)> {
        let sources = self.inner.status_sources.lock().expect("status lock");
        sources.iter().map(|r| (r.name.clone(), r.transport, r.source.health())).collect()
    }

    /// Checks the routes that nothing told about recently (every minute, from the worker's chores).
    pub async fn check_routes(&self) {
        let sources: Vec<_> =
            self.inner.status_sources.lock().expect("status lock").iter().map(|r| r.source.clone()).collect();
        futures_util::future::join_all(sources.iter().map(|s| s.check())).await;
    }

    /// Secrets a transport holds for an owner to see once (the Matrix recovery key): source, label, value.
    pub fn pending_secrets(&self) -> Vec<(String, crate::domain::Message, zeroize::Zeroizing<String>)> {
        let sources = self.inner.status_sources.lock().expect("status lock");
        sources.iter().filter_map(|r| r.source.pending_secret().map(|(label, v)| (r.name.clone(), label, v))).collect()
    }

    /// An owner has stored `source`'s pending secret elsewhere: the transport forgets it (audited).
    pub async fn secret_stored(&self, actor: &Actor, source: &str) -> Result<()> {
        let found = {
            let sources = self.inner.status_sources.lock().expect("status lock");
            sources.iter().find(|r| r.name == source).map(|r| r.source.clone())
        };
        let s = found.ok_or(ServiceError::NotFound)?;
        s.forget_pending_secret().await.map_err(ServiceError::Unavailable)?;
        self.audit(
            actor,
            Action::RecoveryKeyStored,
            source,
            crate::domain::Message::new("audit-recovery-key-stored").stored(),
        )
        .await
    }

    pub fn set_status_sources(&self, sources: Vec<RouteSource>) {
        *self.inner.status_sources.lock().expect("status lock") = sources;
    }

    /// A provider refused a send because the recipient opted out with it (Twilio error 21610): every
    /// live subscription of that subscriber on `transport` ends, with a ledger event each.
    pub async fn provider_opt_out(&self, subscriber: i64, transport: Transport, reason: Reason) -> Result<usize> {
        let reason = serde_json::to_string(&reason).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let n = self.end_on_transport(subscriber, transport, Some(reason), "provider").await?;
        tracing::info!(subscriber, subscriptions = n, "the provider reports an opt-out; subscriptions ended");
        Ok(n)
    }

    /// The subscriber with address `from` ended the conversation on the transport itself (left the
    /// Matrix room, rejected the invite, removed the bot): an opt-out of every channel there, recorded
    /// with the event's id. No goodbye is sent: there is nowhere left to send it.
    pub async fn left_on_transport(&self, transport: Transport, from: &str, id: &str, how: &str) -> Result<usize> {
        let address = crate::domain::Address::parse(transport, from, &self.settings().default_country)?;
        let blind = self.vault().blind_index(&address).to_vec();
        let Some(subscriber) = self.store().call(move |c| subs::find_by_index(c, &blind)).await? else {
            return Ok(0);
        };
        let n = self.end_on_transport(subscriber, transport, Some(id.to_string()), "subscriber").await?;
        tracing::info!(subscriber, subscriptions = n, how, "the subscriber left on the transport; subscriptions ended");
        Ok(n)
    }

    /// Ends every live subscription of `subscriber` on `transport` with an `optout` ledger event each
    /// and cancels what is queued for it, in one transaction.
    async fn end_on_transport(
        &self,
        subscriber: i64,
        transport: Transport,
        gateway_message_id: Option<String>,
        actor: &'static str,
    ) -> Result<usize> {
        let now = self.now();
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let mut n = 0;
                for s in subs::live(&tx, subscriber)?.into_iter().filter(|s| s.transport == transport) {
                    let ch = channels::by_id(&tx, s.channel_id)?;
                    subs::set_state(&tx, s.id, SubscriptionState::Unsubscribed, now)?;
                    ledger::append(
                        &tx,
                        NewEvent {
                            at: now,
                            subscriber,
                            channel: Some(ch.id),
                            transport: Some(transport),
                            kind: ConsentKind::OptOut,
                            gateway_message_id: gateway_message_id.clone(),
                            inbound_sealed: None,
                            wording_version: Some(ch.wording_version),
                            wording_sha256: Some(ch.draft.wording_sha256().to_vec()),
                            actor: actor.into(),
                        },
                    )?;
                    n += 1;
                }
                outbox::cancel_for_subscriber(&tx, subscriber, now)?;
                tx.commit()?;
                Ok(n)
            })
            .await
            .inspect(|_| self.revoke_leases())?)
    }
}
