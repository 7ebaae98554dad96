//! A running broadcast: its live figures (progress, rate, ETA, why it waits) and what steers it
//! (pause, resume, cancel).

use serde::Serialize;

use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::{BroadcastId, BroadcastState, Message, Reason, Transport};
use crate::store::broadcasts::{self, Broadcast};
use crate::store::outbox;

/// A broadcast with its live figures.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    #[serde(flatten)]
    pub broadcast: Broadcast,
    pub queued: i64,
    pub percent: f64,
    /// Deliveries per minute over the last minute.
    pub rate_per_minute: i64,
    pub eta_seconds: Option<i64>,
    /// Why deliveries wait just now, and until when (a rate limit, a gateway that is down).
    pub waiting: Option<Waiting>,
    /// Sent and failed per minute (minutes since 1970), the last two hours with any.
    pub timeline: Vec<(i64, i64, i64)>,
    /// Why deliveries failed, were cancelled or wait to be tried again: (state, reason, count).
    pub reasons: Vec<(crate::domain::DeliveryState, Reason, i64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub reason: Reason,
    /// Unix time.
    pub until: i64,
}

impl Service {
    /// A broadcast's deliveries per transport and state.
    pub async fn per_transport(&self, id: BroadcastId) -> Result<Vec<(Transport, crate::domain::DeliveryState, i64)>> {
        Ok(self.store().call(move |c| outbox::per_transport(c, id)).await?)
    }

    pub async fn progress(&self, id: BroadcastId) -> Result<Progress> {
        let now = self.now();
        let (b, rate, timeline, reasons) = self
            .store()
            .call(move |c| {
                let b = broadcasts::get(c, id)?;
                // Only a broadcast with trouble has reasons; reading them reads its rows.
                let trouble =
                    b.failed + b.cancelled > 0 || b.waiting_until.is_some() || b.state == BroadcastState::Paused;
                let reasons = if trouble { outbox::reasons(c, id, 10)? } else { vec![] };
                Ok((b, outbox::recent_rate(c, id, now, 60)?, broadcasts::minutes(c, id, 120)?, reasons))
            })
            .await?;
        let done = b.sent + b.failed + b.cancelled;
        let queued = (b.total - done).max(0);
        let percent = if b.total == 0 { 100.0 } else { done as f64 * 100.0 / b.total as f64 };
        // While a rate limit holds the deliveries back, the wait is part of the time left.
        // The next try happens at `waiting_until` and, if it is held again, moves it on within a moment:
        // a grace of 2 s keeps the note from flickering off at each try.
        let held = b.waiting_until.filter(|t| *t + 2 > now && queued > 0 && b.state == BroadcastState::Sending);
        let eta_seconds = (rate > 0 && queued > 0).then(|| queued * 60 / rate + held.map_or(0, |t| (t - now).max(0)));
        let waiting = held.map(|until| Waiting { reason: b.waiting_reason.clone().unwrap_or(Reason::Earlier), until });
        Ok(Progress { broadcast: b, queued, percent, rate_per_minute: rate, eta_seconds, waiting, timeline, reasons })
    }

    pub async fn pause_broadcast(&self, actor: &Actor, id: BroadcastId, reason: Reason) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        let detail = serde_json::to_string(&reason).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.audited(
            move |c| {
                broadcasts::transition(
                    c,
                    id,
                    &[BroadcastState::Sending, BroadcastState::Scheduled],
                    BroadcastState::Paused,
                    Some(&reason),
                    now,
                )
            },
            move |_| actor.audit(now, Action::BroadcastPaused, format!("broadcast {id}"), detail),
        )
        .await?;
        self.revoke_leases();
        tracing::info!(broadcast = %id, "broadcast paused");
        Ok(())
    }

    pub async fn resume_broadcast(&self, actor: &Actor, id: BroadcastId) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| {
                let b = broadcasts::get(c, id)?;
                let to = if b.started_at.is_some() { BroadcastState::Sending } else { BroadcastState::Scheduled };
                broadcasts::transition(c, id, &[BroadcastState::Paused], to, None, now)
            },
            move |_| actor.audit(now, Action::BroadcastResumed, format!("broadcast {id}"), ""),
        )
        .await?;
        self.start_due_broadcasts().await?;
        self.wake_worker();
        tracing::info!(broadcast = %id, "broadcast resumed");
        Ok(())
    }

    pub async fn cancel_broadcast(&self, actor: &Actor, id: BroadcastId) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |tx| {
                broadcasts::transition(
                    tx,
                    id,
                    &[BroadcastState::Scheduled, BroadcastState::Sending, BroadcastState::Paused],
                    BroadcastState::Cancelled,
                    None,
                    now,
                )?;
                outbox::cancel_broadcast(tx, id, &Reason::BroadcastCancelled, now)
            },
            move |n| {
                actor.audit(
                    now,
                    Action::BroadcastCancelled,
                    format!("broadcast {id}"),
                    Message::new("audit-deliveries-cancelled").with("n", n).stored(),
                )
            },
        )
        .await?;
        self.revoke_leases();
        tracing::info!(broadcast = %id, "broadcast cancelled");
        Ok(())
    }
}
