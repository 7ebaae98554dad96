//! The delivery worker: one lane per route (the sandbox, the SMS gateways, the Matrix bot), each
//! streaming its rows at its own pace and concurrency; a recorder that writes outcomes in small
//! groups as they finish and pauses a broadcast whose attempts mostly fail; and the chores beside.

mod attempt;
pub mod event_hooks;
pub mod housekeeping;
mod lane;

use crate::domain::Reason;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use attempt::{Attempt, outcome_of};
pub use attempt::{UNREACHABLE_RETRY, backoff};
use lane::{Lane, Mode};

use crate::domain::Transport as Kind;
use crate::service::Service;
use crate::store::outbox::Outcome;
use crate::store::team::Posted;
use crate::transport::Transport;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Rows leased at once by a lane whose route is not paced (and by a step of [`Worker::run_once`]).
    pub batch: usize,
    /// How long a lane holds the rows it leased before they may go to another (renewed every third).
    pub lease: Duration,
    pub max_attempts: i64,
    /// Messages in flight at once, per lane.
    pub concurrency: usize,
}

/// Recent outcomes per broadcast, to pause one whose attempts mostly fail.
const WINDOW: usize = 50;
const MIN_SAMPLES: usize = 20;
const FAIL_SHARE: f64 = 0.8;
/// Outcomes written in one group at most, and outcomes waiting for the next group at most: a send
/// whose outcome is not written yet is sent again after a crash, so at most the lanes' sends under
/// way and two groups are.
pub const RECORD_GROUP: usize = 128;

pub struct Worker {
    service: Service,
    lanes: Vec<Lane>,
    /// The Matrix bot, for announcement-room posts (few: one per broadcast and room).
    rooms: Option<Arc<dyn Transport>>,
    settings: WorkerSettings,
    recent: HashMap<crate::domain::BroadcastId, VecDeque<bool>>,
}

impl Worker {
    pub fn new(service: Service, transports: HashMap<Kind, Arc<dyn Transport>>, settings: WorkerSettings) -> Self {
        let rooms = transports.get(&Kind::Matrix).cloned();
        let mut lanes: Vec<Lane> = transports.into_iter().map(|(k, t)| Lane::new(k, t, &settings)).collect();
        lanes.sort_by_key(|l| l.kind.as_str());
        Self { service, lanes, rooms, settings, recent: HashMap::new() }
    }

    /// Runs until `stop` turns true: every lane on its own, the recorder, and the chores every few
    /// seconds. At stop, rows not sent are given back and sends under way are waited for and recorded.
    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        let (tx, mut rx) = mpsc::channel::<Attempt>(RECORD_GROUP);
        let mut lanes = tokio::task::JoinSet::new();
        for mut lane in std::mem::take(&mut self.lanes) {
            let (service, settings, tx, stop) = (self.service.clone(), self.settings.clone(), tx.clone(), stop.clone());
            lanes.spawn(async move { lane.drive(&service, &settings, &tx, stop, Mode::Forever).await });
        }
        drop(tx);
        let chores = tokio::spawn(chores(self.service.clone(), stop.clone()));
        let mut group = Vec::with_capacity(RECORD_GROUP);
        let mut stop_rooms = stop.clone();
        let mut rooms_tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                n = rx.recv_many(&mut group, RECORD_GROUP) => {
                    if n == 0 {
                        break; // every lane has stopped and everything it sent is here
                    }
                    if let Err(e) = self.record(std::mem::take(&mut group)).await {
                        tracing::error!(error = %e, "outcomes could not be recorded; their rows are sent again when their leases run out");
                    }
                }
                _ = rooms_tick.tick(), if !*stop_rooms.borrow() => {
                    if let Err(e) = self.post_to_rooms().await {
                        tracing::error!(error = %e, "announcement-room posts failed; retrying shortly");
                    }
                }
                Ok(()) = stop_rooms.changed() => {}
            }
        }
        while lanes.join_next().await.is_some() {}
        let _ = chores.await;
    }

    /// One step, for tests and benches: each lane leases one batch (replies first) and sends it at its
    /// own pace, the lanes at the same time; then every outcome is recorded. Returns the rows handled
    /// (0: nothing was due).
    pub async fn run_once(&mut self) -> crate::service::Result<usize> {
        let posted = self.post_to_rooms().await?;
        let (tx, mut rx) = mpsc::channel(RECORD_GROUP);
        let (_keep, stop) = watch::channel(false);
        let (service, settings) = (&self.service, &self.settings);
        let lanes = &mut self.lanes;
        let drive = async move {
            let tx = tx;
            futures_util::future::join_all(
                lanes.iter_mut().map(|l| l.drive(service, settings, &tx, stop.clone(), Mode::Once)),
            )
            .await;
        };
        let collect = async {
            let mut attempts = Vec::new();
            while let Some(a) = rx.recv().await {
                attempts.push(a);
            }
            attempts
        };
        let ((), attempts) = tokio::join!(drive, collect);
        let n = attempts.len();
        self.record(attempts).await?;
        Ok(posted + n)
    }

    /// Records a group of attempts: rooms found or opened are stored first, opt-outs the providers
    /// reported and rooms that are gone end the subscriptions, failing broadcasts pause, then the
    /// outcomes are written in one transaction of the group writer.
    async fn record(&mut self, attempts: Vec<Attempt>) -> crate::service::Result<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        self.watch_failures(&attempts).await;
        let mut results = Vec::with_capacity(attempts.len());
        for a in attempts {
            if let Some((transport, room)) = &a.room
                && let Err(e) = self.service.store_room(a.claimed.subscriber_id, *transport, room.clone()).await
            {
                // Not given back: the row is tried again when its lease runs out.
                tracing::error!(delivery = a.claimed.id, error = %e, "could not store a subscriber's room");
                continue;
            }
            if let Some((transport, why)) = &a.left
                && let Err(e) = self.service.provider_opt_out(a.claimed.subscriber_id, *transport, why.clone()).await
            {
                // The delivery still counts as failed; the next send to them is refused again.
                tracing::error!(delivery = a.claimed.id, error = %e, "could not record that a recipient left");
            }
            results.push((a.claimed, a.outcome));
        }
        let mut delay = 1;
        loop {
            match self.service.record_and_claim(results.clone(), vec![], None, self.settings.lease).await {
                Ok(_) => return Ok(()),
                Err(e) if delay <= 8 => {
                    tracing::warn!(error = %e, "outcomes could not be recorded; trying again");
                    tokio::time::sleep(Duration::from_secs(delay)).await;
                    delay *= 2;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Announcement-room posts (one per broadcast and room: few), sent one by one through the
    /// transport that owns the rooms (Matrix). Returns how many were handled.
    async fn post_to_rooms(&mut self) -> crate::service::Result<usize> {
        let jobs = self.service.claim_room_posts().await?;
        let (n, max_attempts) = (jobs.len(), self.settings.max_attempts);
        let mut results = Vec::with_capacity(n);
        for job in jobs {
            let now = self.service.now();
            let outcome = match &self.rooms {
                None => Outcome::Retry { at: now + 300, error: Reason::NoMatrix },
                Some(t) => {
                    // The bot's pace, shared with its DMs.
                    while let Err(wait) = t.reserve_room_post() {
                        tokio::time::sleep(wait).await;
                    }
                    let key = format!("herold-room-{}", job.post.id);
                    let r = t.post_to_room(&job.post.room, &key, &job.text, job.html.as_deref()).await;
                    outcome_of(r, Kind::Matrix, job.post.attempts, max_attempts, self.service.now())
                }
            };
            results.push((job.post, outcome));
        }
        if n > 0 {
            self.service.record_room_posts(results).await?;
        }
        Ok(n + self.tell_the_team().await?)
    }

    /// Notices for the team room (a new message in a conversation), posted one by one with their id
    /// as the transaction id, so a notice posted again after a restart shows once.
    async fn tell_the_team(&mut self) -> crate::service::Result<usize> {
        let (room, notices) = self.service.claim_team_notices().await?;
        let n = notices.len();
        for notice in notices {
            let now = self.service.now();
            let posted = match (&self.rooms, &room) {
                (_, None) => Posted::Failed,
                (None, Some(_)) => Posted::Retry(now + 300),
                (Some(t), Some(room)) => {
                    while let Err(wait) = t.reserve_room_post() {
                        tokio::time::sleep(wait).await;
                    }
                    let key = format!("herold-team-{}", notice.id);
                    let r = t.post_to_room(room, &key, &notice.text, None).await;
                    match outcome_of(r, Kind::Matrix, notice.attempts, self.settings.max_attempts, self.service.now()) {
                        Outcome::Sent { .. } => Posted::Sent,
                        Outcome::Retry { at, .. } | Outcome::Deferred { at, .. } => Posted::Retry(at),
                        Outcome::Release => Posted::Retry(now),
                        Outcome::Failed { .. } | Outcome::Cancel { .. } => Posted::Failed,
                    }
                }
            };
            self.service.record_team_notice(notice.id, posted).await?;
        }
        Ok(n)
    }

    /// Pauses a broadcast when most of its recent attempts failed, and says why.
    async fn watch_failures(&mut self, attempts: &[Attempt]) {
        let mut to_pause = Vec::new();
        for a in attempts.iter().filter(|a| a.tried) {
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
            let cause = err.unwrap_or(Reason::Earlier).boxed();
            let reason = Reason::FailingPaused { fails: fails as i64, total: total as i64, cause };
            match self.service.pause_broadcast(&crate::service::Actor::System, b, reason).await {
                Ok(()) => tracing::warn!(broadcast = %b, fails, total, "broadcast paused: most attempts fail"),
                Err(e) => tracing::debug!(broadcast = %b, error = %e, "could not pause"),
            }
        }
    }
}

/// Every few seconds: expired leases back to the queue, due schedules started, stale opt-ins expired.
async fn chores(service: Service, mut stop: watch::Receiver<bool>) {
    let mut checked: Option<std::time::Instant> = None;
    loop {
        // Whether the gateways answer, once a minute (on its own: a check may wait for a timeout).
        if checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            checked = Some(std::time::Instant::now());
            let s = service.clone();
            tokio::spawn(async move { s.check_routes().await });
        }
        if let Err(e) = service.chores().await {
            tracing::error!(error = %e, "delivery chores failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            Ok(()) = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}
