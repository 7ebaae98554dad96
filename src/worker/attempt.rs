//! One send and what its answer means for the row: sent, retried with backoff or as the gateway
//! asked, deferred by a rate limit, failed, the recipient gone, or a room to store first.

use crate::domain::Reason;
use std::sync::Arc;

use rand::Rng;

use crate::domain::Transport as Kind;
use crate::service::Service;
use crate::service::delivery::Job;
use crate::store::outbox::{Claimed, Outcome};
use crate::transport::{SendError, Transport};

/// Seconds between tries while a transport cannot be reached (those tries are not counted).
pub const UNREACHABLE_RETRY: i64 = 5;

/// Exponential backoff (10 s · 2^(attempt-1), at most an hour) with ±50 % jitter.
pub fn backoff(attempt: i64) -> i64 {
    let base = (10i64 << (attempt - 1).clamp(0, 9)).min(3600);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    ((base as f64) * jitter) as i64
}

/// One row and what became of it.
pub(super) struct Attempt {
    pub claimed: Claimed,
    pub outcome: Outcome,
    /// The recipient ended it on this transport (opted out with the provider, or their room is gone).
    pub left: Option<(Kind, Reason)>,
    /// A room the transport found or opened for the recipient: stored before the outcome.
    pub room: Option<(Kind, String)>,
    /// Whether the transport was asked at all (rows given back or dropped were not).
    pub tried: bool,
}

impl Attempt {
    /// A row decided without a send (given back, cancelled, unreadable).
    pub fn decided(claimed: Claimed, outcome: Outcome) -> Self {
        Self { claimed, outcome, left: None, room: None, tried: false }
    }

    pub fn error(&self) -> Option<Reason> {
        match &self.outcome {
            Outcome::Failed { error } | Outcome::Retry { error, .. } => Some(error.clone()),
            _ => None,
        }
    }
}

/// Sends one prepared row through `transport`, its place in the pace already reserved by the lane.
pub(super) async fn send_one(service: Service, transport: Arc<dyn Transport>, job: Job, max_attempts: i64) -> Attempt {
    let Job { claimed, transport: kind, msg } = job;
    let result = transport.send(&msg).await;
    let now = service.now();
    let mut attempt = Attempt { claimed, outcome: Outcome::Release, left: None, room: None, tried: true };
    attempt.outcome = match result {
        Err(SendError::RoomChosen(room)) => {
            attempt.room = Some((kind, room));
            attempt.tried = false;
            Outcome::Release
        }
        Err(SendError::Gone(reason)) => {
            attempt.left = Some((kind, reason.clone()));
            Outcome::Failed { error: Reason::Left { cause: reason.boxed() } }
        }
        Err(SendError::OptedOut(e)) => {
            attempt.left = Some((kind, e.clone()));
            Outcome::Failed { error: e }
        }
        other => outcome_of(other, kind, attempt.claimed.attempts, max_attempts, now),
    };
    attempt
}

/// What a transport's answer means for the row (the recipient-level answers are handled above).
pub(super) fn outcome_of(
    result: Result<crate::transport::Receipt, SendError>,
    transport: Kind,
    attempts: i64,
    max_attempts: i64,
    now: i64,
) -> Outcome {
    match result {
        Ok(r) => Outcome::Sent { gateway_id: r.gateway_id, usage: r.usage },
        // A gateway's or the homeserver's `Retry-After` also holds its pace (the transport does that).
        Err(SendError::Transient { reason, retry_after }) if attempts < max_attempts => {
            let wait = retry_after.map(|d| d.as_secs() as i64).unwrap_or_else(|| backoff(attempts));
            Outcome::Retry { at: now + wait.max(1), error: reason }
        }
        Err(e @ SendError::RateLimited { retry_after }) => {
            Outcome::Deferred { at: now + (retry_after.as_secs() as i64).max(1), error: e.reason(transport) }
        }
        Err(SendError::Unreachable(reason)) => Outcome::Deferred { at: now + UNREACHABLE_RETRY, error: reason },
        Err(SendError::Transient { reason, .. }) => {
            Outcome::Failed { error: Reason::GaveUp { attempts: max_attempts, cause: reason.boxed() } }
        }
        Err(SendError::Permanent(e)) => Outcome::Failed { error: e },
        Err(e @ SendError::Misconfigured(_)) => Outcome::Retry { at: now + 300, error: e.reason(transport) },
        Err(SendError::OptedOut(e) | SendError::Gone(e)) => Outcome::Failed { error: e },
        Err(SendError::RoomChosen(_)) => Outcome::Release,
    }
}
