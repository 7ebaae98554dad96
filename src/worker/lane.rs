//! One delivery lane: the rows of one route (the sandbox, the SMS gateways, the Matrix bot) leased a
//! few at a time and streamed through the route's own pace and concurrency. A finished send frees its
//! slot at once; replies go ahead of broadcast rows; rows held are renewed; a revocation (opt-out,
//! pause, cancel) gives back what was not sent yet.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::WorkerSettings;
use super::attempt::{Attempt, send_one};
use crate::domain::Transport as Kind;
use crate::service::Service;
use crate::service::delivery::Job;
use crate::store::outbox::Outcome;
use crate::transport::{Hold, Transport};

/// How the lane runs: until told to stop, or through what one lease gives and then return (tests and
/// benches drive the worker step by step this way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Forever,
    Once,
}

pub(super) struct Lane {
    pub(super) kind: Kind,
    transport: Arc<dyn Transport>,
    concurrency: usize,
    /// Rows kept leased ahead of the sends: about four seconds of a paced route, a batch otherwise.
    target: usize,
    /// Leased and opened, not yet sent: replies first.
    buffer: VecDeque<Job>,
}

impl Lane {
    pub(super) fn new(kind: Kind, transport: Arc<dyn Transport>, settings: &WorkerSettings) -> Self {
        let rate = transport.segments_per_second();
        let batch = settings.batch.max(1);
        let target = match rate {
            Some(r) => ((r * 4.0).ceil() as usize).clamp(8, batch.max(8)),
            None => batch,
        };
        Self { kind, transport, concurrency: settings.concurrency.max(1), target, buffer: VecDeque::new() }
    }

    /// The next row that may go now, with the route its transport reserved for it, or how long
    /// until the pace allows it (`Err(None)`: none left). A row waits here, not in the transport: a
    /// reply that arrives meanwhile goes ahead of it. A row a quota holds goes back to the outbox
    /// until then (to `out`, as a deferral) and the next one is tried.
    async fn next_ready(&mut self, out: &mpsc::Sender<Attempt>) -> Result<Job, Option<Duration>> {
        loop {
            let job = self.buffer.front().ok_or(None)?;
            match self.transport.reserve(&job.msg) {
                Ok(slot) => {
                    let mut job = self.buffer.pop_front().expect("a row is at the front");
                    job.msg.slot = slot;
                    return Ok(job);
                }
                Err(Hold::Pace(wait)) => return Err(Some(wait)),
                Err(Hold::Until { at, reason }) => {
                    let job = self.buffer.pop_front().expect("a row is at the front");
                    let _ = out.send(Attempt::decided(job.claimed, Outcome::Deferred { at, error: reason })).await;
                }
            }
        }
    }

    /// Leases up to `limit` more rows and opens them; replies go before the broadcast rows already
    /// held. Rows that cannot be sent come back at once as attempts. Returns how many were leased.
    async fn refill(
        &mut self,
        service: &Service,
        settings: &WorkerSettings,
        limit: usize,
        out: &mpsc::Sender<Attempt>,
    ) -> crate::service::Result<usize> {
        let claimed = service.record_and_claim(vec![], vec![], Some((self.kind, limit)), settings.lease).await?;
        let n = claimed.len();
        let (jobs, dropped) = service.prepare_jobs(claimed).await?;
        for (claimed, outcome) in dropped {
            let _ = out.send(Attempt::decided(claimed, outcome)).await;
        }
        let (replies, rest): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.claimed.broadcast_id.is_none());
        for r in replies.into_iter().rev() {
            self.buffer.push_front(r);
        }
        self.buffer.extend(rest);
        Ok(n)
    }

    /// Gives back every row held but not sent (not counted as an attempt).
    async fn give_back(&mut self, out: &mpsc::Sender<Attempt>) {
        for job in std::mem::take(&mut self.buffer) {
            let _ = out.send(Attempt::decided(job.claimed, Outcome::Release)).await;
        }
    }

    /// Runs the lane. Every attempt, and every row given back, goes to `out` as it happens.
    pub(super) async fn drive(
        &mut self,
        service: &Service,
        settings: &WorkerSettings,
        out: &mpsc::Sender<Attempt>,
        mut stop: watch::Receiver<bool>,
        mode: Mode,
    ) {
        let mut signals = service.lane_signals(self.kind);
        signals.wake.borrow_and_update();
        signals.revoke.borrow_and_update();
        let mut inflight: JoinSet<Attempt> = JoinSet::new();
        let mut sending: HashMap<tokio::task::Id, (i64, i64)> = HashMap::new();
        let renew_every = (settings.lease / 3).max(Duration::from_secs(1));
        let mut renewed = Instant::now();
        let (mut refill, mut more, mut revoked, mut leased_once) = (true, false, false, false);
        loop {
            if *stop.borrow() {
                break;
            }
            if revoked {
                revoked = false;
                self.give_back(out).await;
                refill = true;
            }
            let low = self.buffer.len() < self.target / 2 + 1;
            if (refill || (more && low)) && !(mode == Mode::Once && leased_once) {
                let limit = match mode {
                    Mode::Once => settings.batch.max(1),
                    Mode::Forever => self.target.saturating_sub(self.buffer.len()).max(8),
                };
                match self.refill(service, settings, limit, out).await {
                    Ok(n) => more = n == limit,
                    Err(e) => {
                        tracing::error!(transport = %self.kind, error = %e, "could not lease deliveries; trying again shortly");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                            Ok(()) = stop.changed() => {}
                        }
                        continue;
                    }
                }
                refill = false;
                leased_once = true;
            }
            let mut wait = None;
            while inflight.len() < self.concurrency {
                match self.next_ready(out).await {
                    Ok(job) => {
                        let held = (job.claimed.id, job.claimed.attempts);
                        let send = send_one(service.clone(), self.transport.clone(), job, settings.max_attempts);
                        let handle = inflight.spawn(send);
                        sending.insert(handle.id(), held);
                    }
                    Err(w) => {
                        wait = w;
                        break;
                    }
                }
            }
            if mode == Mode::Once && inflight.is_empty() && self.buffer.is_empty() {
                break;
            }
            if renewed.elapsed() >= renew_every {
                renewed = Instant::now();
                let held: Vec<(i64, i64)> = self
                    .buffer
                    .iter()
                    .map(|j| (j.claimed.id, j.claimed.attempts))
                    .chain(sending.values().copied())
                    .collect();
                if let Err(e) = service.record_and_claim(vec![], held, None, settings.lease).await {
                    tracing::error!(transport = %self.kind, error = %e, "could not renew the lane's leases");
                }
            }
            let idle = self.buffer.is_empty() && mode == Mode::Forever;
            tokio::select! {
                done = inflight.join_next_with_id(), if !inflight.is_empty() => match done {
                    Some(Ok((id, attempt))) => {
                        sending.remove(&id);
                        // Waits while the recorder is a group behind: what is sent and not yet
                        // written (sent twice after a crash) stays bounded.
                        let _ = out.send(attempt).await;
                    }
                    Some(Err(e)) => {
                        // Its row stays leased and is sent again when the lease runs out.
                        sending.remove(&e.id());
                        tracing::error!(transport = %self.kind, "a send panicked; its delivery is tried again later");
                    }
                    None => {}
                },
                _ = tokio::time::sleep(wait.unwrap_or_default()), if wait.is_some() => {}
                _ = tokio::time::sleep(renew_every) => {}
                Ok(()) = signals.wake.changed() => refill = true,
                Ok(()) = signals.revoke.changed() => revoked = true,
                _ = tokio::time::sleep(Duration::from_secs(1)), if idle => refill = true,
                Ok(()) = stop.changed() => {}
            }
        }
        // Stopping: what was not sent goes back; what is at the gateway is waited for and recorded.
        self.give_back(out).await;
        while let Some(done) = inflight.join_next().await {
            if let Ok(attempt) = done {
                let _ = out.send(attempt).await;
            }
        }
    }
}
