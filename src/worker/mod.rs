//! The delivery worker: leases due rows, paces them per transport in SMS segments, sends them with
//! bounded concurrency, retries with backoff and jitter, pauses a failing broadcast, records results.

pub mod housekeeping;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;

use crate::domain::Transport as Kind;
use crate::domain::segments;
use crate::service::Service;
use crate::service::delivery::Job;
use crate::store::outbox::{Claimed, Outcome};
use crate::transport::pacing::Bucket;
use crate::transport::{OutboundMessage, SendError, Transport};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub batch: i64,
    pub lease_seconds: i64,
    pub max_attempts: i64,
    /// Messages in flight at once.
    pub concurrency: usize,
}

/// Recent outcomes per broadcast, to pause one whose attempts mostly fail.
const WINDOW: usize = 50;
const MIN_SAMPLES: usize = 20;
const FAIL_SHARE: f64 = 0.8;

pub struct Worker {
    service: Service,
    transports: HashMap<Kind, (Arc<dyn Transport>, Option<Bucket>)>,
    settings: WorkerSettings,
    recent: HashMap<i64, VecDeque<bool>>,
    /// Outcomes of the last round, recorded during the next one (while it reads).
    unrecorded: Vec<(Claimed, Outcome)>,
    /// Rows leased for the next round, read while this round's outcomes are written.
    next: Vec<Claimed>,
}

/// Exponential backoff (10 s · 2^(attempt-1), at most an hour) with ±50 % jitter.
/// Seconds between tries while a transport cannot be reached (those tries are not counted).
pub const UNREACHABLE_RETRY: i64 = 5;

pub fn backoff(attempt: i64) -> i64 {
    let base = (10i64 << (attempt - 1).clamp(0, 9)).min(3600);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    ((base as f64) * jitter) as i64
}

impl Worker {
    pub fn new(service: Service, transports: HashMap<Kind, Arc<dyn Transport>>, settings: WorkerSettings) -> Self {
        let transports = transports
            .into_iter()
            .map(|(k, t)| {
                let bucket = t.segments_per_second().map(Bucket::new);
                (k, (t, bucket))
            })
            .collect();
        Self { service, transports, settings, recent: HashMap::new(), unrecorded: Vec::new(), next: Vec::new() }
    }

    /// Runs until `stop` turns true: chores every few seconds, deliveries whenever there are any.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut last_chores = std::time::Instant::now() - Duration::from_secs(60);
        loop {
            if *stop.borrow() {
                if let Err(e) = self.flush().await {
                    tracing::error!(error = %e, "could not record the last round; its rows are leased again at start");
                }
                return;
            }
            if last_chores.elapsed() >= Duration::from_secs(5) {
                // A long round (slow gateway, many new Matrix rooms) may outlast the leases of the rows
                // this worker holds: renew them first, so the chores' reclaim only finds rows nobody holds.
                let held: Vec<(i64, i64)> = self
                    .next
                    .iter()
                    .chain(self.unrecorded.iter().map(|(c, _)| c))
                    .map(|c| (c.id, c.attempts))
                    .collect();
                if let Err(e) = self.service.renew_leases(held, self.settings.lease_seconds).await {
                    tracing::error!(error = %e, "could not renew the worker's leases");
                }
                if let Err(e) = self.service.chores().await {
                    tracing::error!(error = %e, "delivery chores failed");
                }
                last_chores = std::time::Instant::now();
            }
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        _ = self.service.outbox_ready(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "delivery round failed; retrying shortly");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    /// One round, in two halves that run at the same time on two connections: the write half records
    /// the last round's outcomes and leases the next batch; the read half opens the batch leased last
    /// round (keys, addresses). Then that batch is sent; its outcomes wait for the next round (or
    /// [`Self::flush`]). At most three batches are leased at once. Returns the rows this round
    /// leased, read or recorded (0: nothing to do).
    pub async fn run_once(&mut self) -> crate::service::Result<usize> {
        let posted = self.post_to_rooms().await?;
        let previous = std::mem::take(&mut self.unrecorded);
        let to_read = std::mem::take(&mut self.next);
        let recorded = previous.len();
        let (batch, lease) = (self.settings.batch, self.settings.lease_seconds);
        // The batch read now is sent this round: its lease runs from now, not from when it was leased.
        let held = to_read.iter().map(|c| (c.id, c.attempts)).collect();
        let (claimed, prepared) = tokio::join!(
            self.service.record_and_claim(previous, held, batch, lease),
            self.service.prepare_jobs(to_read)
        );
        let (jobs, dropped) = prepared?;
        self.unrecorded = dropped;
        self.next = match claimed {
            Ok(c) => c,
            Err(e) => {
                // The outcomes were not recorded: their rows stay leased and are sent again later.
                self.flush().await.ok();
                return Err(e);
            }
        };
        let handled = posted + recorded + jobs.len() + self.next.len() + self.unrecorded.len();
        if jobs.is_empty() {
            if self.next.is_empty() {
                self.flush().await?;
            }
            return Ok(handled);
        }
        let max_attempts = self.settings.max_attempts;
        let transports = &self.transports;
        let now = self.service.now();
        let results: Vec<Attempt> = futures_util::stream::iter(jobs)
            .map(|job| async move { send_one(transports, job, max_attempts, now).await })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        self.watch_failures(&results).await;
        for a in &results {
            if let Some(transport) = a.opted_out
                && let Err(e) = self.service.provider_opt_out(a.claimed.subscriber_id, transport, a.error()).await
            {
                // The delivery still counts as failed; the next send to them is refused again.
                tracing::error!(delivery = a.claimed.id, error = %e, "could not record a provider's opt-out");
            }
        }
        self.unrecorded.extend(results.into_iter().map(|a| (a.claimed, a.outcome)));
        Ok(handled)
    }

    /// Announcement-room posts (one per broadcast and room: few), sent one by one through the
    /// transport that owns the rooms (Matrix). Returns how many were handled.
    async fn post_to_rooms(&mut self) -> crate::service::Result<usize> {
        let jobs = self.service.claim_room_posts().await?;
        let (n, now, max_attempts) = (jobs.len(), self.service.now(), self.settings.max_attempts);
        let mut results = Vec::with_capacity(n);
        for job in jobs {
            let outcome = match self.transports.get(&Kind::Matrix) {
                None => Outcome::Retry { at: now + 300, error: "no matrix transport is configured".into() },
                Some((t, bucket)) => {
                    if let Some(b) = bucket {
                        b.take(1).await;
                    }
                    let key = format!("herold-room-{}", job.post.id);
                    let r = t.post_to_room(&job.post.room, &key, &job.text, job.html.as_deref()).await;
                    outcome_of(r, Kind::Matrix, bucket.as_ref(), job.post.attempts, max_attempts, now).0
                }
            };
            results.push((job.post, outcome));
        }
        if n > 0 {
            self.service.record_room_posts(results).await?;
        }
        Ok(n)
    }

    /// Records the outcomes still held, and gives back rows leased but not yet read.
    pub async fn flush(&mut self) -> crate::service::Result<()> {
        let mut held = std::mem::take(&mut self.unrecorded);
        held.extend(std::mem::take(&mut self.next).into_iter().map(|c| (c, Outcome::Release)));
        if !held.is_empty() {
            self.service.record_outcomes(held).await?;
        }
        Ok(())
    }

    /// Pauses a broadcast when most of its recent attempts failed, and says why.
    async fn watch_failures(&mut self, results: &[Attempt]) {
        let mut to_pause = Vec::new();
        for a in results {
            let Some(b) = a.claimed.broadcast_id else { continue };
            let failed = matches!(a.outcome, Outcome::Failed { .. } | Outcome::Retry { .. });
            let w = self.recent.entry(b).or_default();
            w.push_back(failed);
            if w.len() > WINDOW {
                w.pop_front();
            }
            let fails = w.iter().filter(|f| **f).count();
            if w.len() >= MIN_SAMPLES && fails as f64 >= FAIL_SHARE * w.len() as f64 {
                to_pause.push((b, fails, w.len(), a.error()));
                w.clear();
            }
        }
        for (b, fails, total, err) in to_pause {
            let reason = format!("paused by herold: {fails} of the last {total} attempts failed ({err})");
            match self.service.pause_broadcast(&crate::service::Actor::System, b, &reason).await {
                Ok(()) => tracing::warn!(broadcast = b, fails, total, "broadcast paused: most attempts fail"),
                Err(e) => tracing::debug!(broadcast = b, error = %e, "could not pause"),
            }
        }
    }
}

/// One send and what became of it.
struct Attempt {
    claimed: Claimed,
    outcome: Outcome,
    /// The provider refused the recipient because they opted out with it, on this transport.
    opted_out: Option<Kind>,
}

impl Attempt {
    fn error(&self) -> String {
        match &self.outcome {
            Outcome::Failed { error } | Outcome::Retry { error, .. } => error.clone(),
            _ => String::new(),
        }
    }
}

async fn send_one(
    transports: &HashMap<Kind, (Arc<dyn Transport>, Option<Bucket>)>,
    job: Job,
    max_attempts: i64,
    now: i64,
) -> Attempt {
    let Job { claimed, transport, to, text, html } = job;
    let Some((t, bucket)) = transports.get(&transport) else {
        let error = format!("no {transport} transport is configured");
        return Attempt { claimed, outcome: Outcome::Retry { at: now + 300, error }, opted_out: None };
    };
    if let Some(b) = bucket {
        let parts = if transport == Kind::Matrix { 1 } else { segments::count(&text).parts.max(1) };
        b.take(parts).await;
    }
    let msg = OutboundMessage { delivery_id: claimed.id, to, text, html };
    let (outcome, opted_out) =
        outcome_of(t.send(&msg).await, transport, bucket.as_ref(), claimed.attempts, max_attempts, now);
    Attempt { claimed, outcome, opted_out }
}

/// What a transport's answer means for the row: sent, retried later (with backoff or as the gateway
/// asked), deferred by a rate limit, or failed; and whether the provider reports an opt-out.
fn outcome_of(
    result: Result<crate::transport::Receipt, SendError>,
    transport: Kind,
    bucket: Option<&Bucket>,
    attempts: i64,
    max_attempts: i64,
    now: i64,
) -> (Outcome, Option<Kind>) {
    let mut opted_out = None;
    let outcome = match result {
        Ok(r) => Outcome::Sent { gateway_id: r.gateway_id },
        Err(SendError::Transient { reason, retry_after }) if attempts < max_attempts => {
            if let (Some(b), Some(after)) = (bucket, retry_after) {
                b.hold(after);
            }
            let wait = retry_after.map(|d| d.as_secs() as i64).unwrap_or_else(|| backoff(attempts));
            Outcome::Retry { at: now + wait.max(1), error: reason }
        }
        Err(SendError::RateLimited { retry_after }) => {
            if let Some(b) = bucket {
                b.hold(retry_after);
            }
            let at = now + (retry_after.as_secs() as i64).max(1);
            let by = if transport == Kind::Matrix { "the homeserver" } else { "the gateway" };
            Outcome::Deferred { at, error: format!("rate-limited by {by}; waiting as it asked") }
        }
        Err(SendError::Unreachable(reason)) => Outcome::Deferred { at: now + UNREACHABLE_RETRY, error: reason },
        Err(SendError::Transient { reason, .. }) => {
            Outcome::Failed { error: format!("gave up after {max_attempts} attempts: {reason}") }
        }
        Err(SendError::Permanent(e)) => Outcome::Failed { error: e },
        Err(SendError::OptedOut(e)) => {
            opted_out = Some(transport);
            Outcome::Failed { error: format!("opted out with the provider: {e}") }
        }
        Err(SendError::Misconfigured(e)) => {
            Outcome::Retry { at: now + 300, error: format!("transport misconfigured: {e}") }
        }
    };
    (outcome, opted_out)
}
