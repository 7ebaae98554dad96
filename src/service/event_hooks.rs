//! Webhooks to other systems as the use cases see them: registering and removing endpoints (audited),
//! their delivery log, and the queue the webhook worker leases from and reports back to.

use serde::Deserialize;
use zeroize::Zeroizing;

use super::{Actor, Result, Service, ServiceError};
use crate::crypto::signing;
use crate::domain::audit::Action;
use crate::domain::event::EventKind;
use crate::domain::{Problem, Reason};
use crate::store::event_hooks::{self, Due};

pub use crate::store::event_hooks::{Endpoint, LogLine};

/// After a day of failed attempts (and none delivered) an endpoint is switched off.
pub const DISABLE_AFTER: i64 = 24 * 3600;
/// Delivered events stay in the log for a week.
pub const LOG_DAYS: i64 = 7;
const URL_MAX: usize = 2000;

/// What an owner (or an API client with the write scope) registers.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<EventKind>,
}

/// One leased event, ready to post: the secret opened.
pub struct HookSend {
    pub id: i64,
    pub endpoint: i64,
    pub url: String,
    pub secret: Zeroizing<Vec<u8>>,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

fn secret_name(url: &str) -> String {
    format!("webhook-secret:{url}")
}

fn check(new: &NewWebhook) -> Result<String> {
    let url = new.url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| ServiceError::Invalid(Problem::new("webhook-url-form")))?;
    let usable = matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() && url.len() <= URL_MAX;
    if !usable {
        return Err(ServiceError::Invalid(Problem::new("webhook-url-form")));
    }
    if new.events.is_empty() {
        return Err(ServiceError::Invalid(Problem::new("webhook-events-none")));
    }
    Ok(url.to_string())
}

impl Service {
    /// Registers an endpoint; the returned secret (`whsec_…`) is shown once.
    pub async fn create_webhook(&self, actor: &Actor, new: NewWebhook) -> Result<(Endpoint, Zeroizing<String>)> {
        let url = check(&new)?;
        let secret = signing::new_secret();
        let sealed = self.vault().seal_secret(&secret_name(&url), &secret);
        let by = match actor {
            Actor::Admin { id, .. } => Some(*id),
            _ => None,
        };
        let (now, actor) = (self.now(), actor.clone());
        let endpoint = self
            .audited(
                move |c| {
                    let id = event_hooks::insert(c, &url, &new.events, &sealed, by, now)?;
                    event_hooks::get(c, id)
                },
                move |e: &Endpoint| actor.audit(now, Action::WebhookCreated, format!("webhook {}", e.id), ""),
            )
            .await?;
        tracing::info!(webhook = endpoint.id, "webhook created");
        Ok((endpoint, signing::show_secret(&secret)))
    }

    pub async fn webhooks(&self) -> Result<Vec<Endpoint>> {
        Ok(self.store().call(|c| event_hooks::list(c)).await?)
    }

    /// An endpoint and its newest `limit` events.
    pub async fn webhook(&self, id: i64, limit: i64) -> Result<(Endpoint, Vec<LogLine>)> {
        Ok(self.store().call(move |c| Ok((event_hooks::get(c, id)?, event_hooks::log(c, id, limit)?))).await?)
    }

    pub async fn remove_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| event_hooks::remove(c, id),
            move |_| actor.audit(now, Action::WebhookRemoved, format!("webhook {id}"), ""),
        )
        .await?;
        tracing::info!(webhook = id, "webhook removed");
        Ok(())
    }

    /// Switches an endpoint on again (after herold switched it off): what waited is sent at once.
    pub async fn enable_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| event_hooks::enable(c, id, now),
            move |_| actor.audit(now, Action::WebhookEnabled, format!("webhook {id}"), ""),
        )
        .await?;
        Ok(())
    }

    /// At start: what a killed process was posting is posted again (same `webhook-id`).
    pub async fn release_webhook_leases(&self) -> Result<usize> {
        let now = self.now();
        Ok(self.store().call(move |c| event_hooks::release_leases(c, now)).await?)
    }

    /// Leases up to `limit` due events and opens their endpoints' secrets.
    pub async fn claim_webhooks(&self, limit: i64) -> Result<Vec<HookSend>> {
        let now = self.now();
        let due = self.store().call(move |c| event_hooks::claim(c, now, limit)).await?;
        due.into_iter()
            .map(|d: Due| {
                let secret = self.vault().open_secret(&secret_name(&d.url), &d.secret_sealed)?;
                Ok(HookSend {
                    id: d.id,
                    endpoint: d.endpoint,
                    url: d.url,
                    secret,
                    payload: d.payload,
                    attempts: d.attempts,
                })
            })
            .collect()
    }

    pub async fn webhook_delivered(&self, id: i64, status: u16) -> Result<()> {
        let now = self.now();
        self.store().call(move |c| event_hooks::delivered(c, id, status, now)).await?;
        self.metrics().event_webhook("delivered");
        Ok(())
    }

    /// Records a failed attempt, to be tried again in `retry_in` seconds; switches the endpoint off
    /// (audited) when it has failed for a day.
    pub async fn webhook_failed(
        &self,
        send: &HookSend,
        status: Option<u16>,
        reason: Reason,
        retry_in: i64,
    ) -> Result<()> {
        let (id, endpoint, now) = (send.id, send.endpoint, self.now());
        let disabled = self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let disabled = event_hooks::failed(&tx, id, status, &reason, now + retry_in, now, now - DISABLE_AFTER)?;
                if disabled {
                    let entry = Actor::System.audit(now, Action::WebhookDisabled, format!("webhook {endpoint}"), "");
                    crate::store::audit::append(&tx, entry)?;
                }
                tx.commit()?;
                Ok(disabled)
            })
            .await?;
        self.metrics().event_webhook(if disabled { "switched_off" } else { "failed" });
        if disabled {
            tracing::warn!(webhook = endpoint, "a webhook failed for a day and was switched off");
        }
        Ok(())
    }

    /// Forgets delivered events older than the log keeps.
    pub async fn prune_webhook_log(&self) -> Result<usize> {
        let before = self.now() - LOG_DAYS * 86_400;
        Ok(self.store().call(move |c| event_hooks::prune(c, before)).await?)
    }
}
