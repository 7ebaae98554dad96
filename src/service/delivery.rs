//! The delivery side of the outbox for the worker: lease due rows and turn them into messages (opening
//! addresses with each subscriber's key), record outcomes, and run the periodic chores.

use crate::domain::Reason;
use std::collections::HashMap;
use std::time::Duration;

use super::{Result, Service};
use crate::domain::quiet::{self, QuietHours};
use crate::domain::{Address, BroadcastState, SubscriberId, Transport};
use crate::metrics::{DeliveryResult, RateLimit};
use crate::store::broadcasts::{self, Broadcast};
use crate::store::outbox::{self, Claimed, Outcome};
use crate::store::reports;
use crate::store::subscribers as subs;

/// A leased delivery ready to send.
#[derive(Debug, Clone)]
pub struct Job {
    pub claimed: Claimed,
    pub transport: Transport,
    /// The message, its segments counted once (the recipient's Matrix DM room opened from its seal).
    pub msg: crate::transport::OutboundMessage,
}

/// The additional data a sealed DM room id is bound to.
pub(crate) const ROOM_AAD: &str = "room";

impl Service {
    /// Leases up to `limit` due deliveries of one transport. Rows that cannot be sent (deadline
    /// passed, address gone) are recorded at once and not returned.
    pub async fn lease_jobs(&self, transport: Transport, limit: usize, lease: Duration) -> Result<Vec<Job>> {
        let claimed = self.claim(transport, limit, lease).await?;
        let (jobs, dropped) = self.prepare_jobs(claimed).await?;
        if !dropped.is_empty() {
            self.record_outcomes(dropped).await?;
        }
        Ok(jobs)
    }

    /// A lane's writes in one job of the group writer (which shares its commits with the inbound
    /// messages of the moment): outcomes recorded, the leases of the rows it holds (`held`: id and
    /// attempts) renewed, and up to `limit` rows of `transport` leased.
    pub async fn record_and_claim(
        &self,
        results: Vec<(Claimed, Outcome)>,
        held: Vec<(i64, i64)>,
        claim: Option<(Transport, usize)>,
        lease: Duration,
    ) -> Result<Vec<Claimed>> {
        if results.is_empty() && held.is_empty() && claim.is_none() {
            return Ok(vec![]);
        }
        let (now, cap) = (self.now(), self.settings().cap);
        let counts = count_outcomes(&results);
        let claimed = self
            .store()
            .write_grouped(move |c| outbox::record_and_claim(c, &results, &held, claim, now, lease, cap))
            .await?;
        self.add_to_metrics(counts);
        Ok(claimed)
    }

    fn add_to_metrics(&self, counts: OutcomeCounts) {
        let m = self.metrics();
        for ((transport, result), n) in counts.by_result {
            m.delivered(transport, result, n);
        }
        for limit in counts.rate_limited {
            m.rate_limited(limit);
        }
        for (subscriber, transport, sent) in counts.replies {
            m.reply_done(subscriber, transport, sent);
        }
    }

    /// Leases up to `limit` due deliveries of one transport (a write).
    pub async fn claim(&self, transport: Transport, limit: usize, lease: Duration) -> Result<Vec<Claimed>> {
        let (now, cap) = (self.now(), self.settings().cap);
        Ok(self.store().call(move |c| outbox::claim(c, transport, now, lease, limit, cap)).await?)
    }

    /// Stores the room a transport found or opened for a subscriber (sealed with their key): from
    /// now on their messages on `transport` go there, and only there.
    pub async fn store_room(&self, subscriber: i64, transport: Transport, room: String) -> Result<()> {
        let vault = self.vault().clone();
        self.store()
            .call(move |c| {
                let Some(stored) = subs::key_and_address(c, subscriber, transport)? else {
                    return Ok(()); // erased meanwhile
                };
                let key = vault.unwrap_data_key(SubscriberId(subscriber), &stored.wrapped_key)?;
                subs::set_room(c, subscriber, transport, &key.seal(ROOM_AAD, room.as_bytes()))
            })
            .await?;
        tracing::info!(subscriber, %transport, "the subscriber's room is stored");
        Ok(())
    }

    /// Turns leased rows into messages (reads only, so it can run while another batch is recorded).
    /// Rows that cannot be sent come back as outcomes to record.
    pub async fn prepare_jobs(&self, claimed: Vec<Claimed>) -> Result<(Vec<Job>, Vec<(Claimed, Outcome)>)> {
        if claimed.is_empty() {
            return Ok((vec![], vec![]));
        }
        let (vault, now) = (self.vault().clone(), self.now());
        let (quiet, home) = (self.settings().quiet.clone(), self.settings().zone.clone());
        self.store()
            .call(move |c| {
                let mut cache: HashMap<crate::domain::BroadcastId, Broadcast> = HashMap::new();
                // The quiet hours each broadcast keeps, per transport (empty: any hour).
                let mut nights: HashMap<(crate::domain::BroadcastId, Transport), Vec<QuietHours>> = HashMap::new();
                let mut jobs = Vec::with_capacity(claimed.len());
                let mut dropped = Vec::new();
                for cl in claimed {
                    let broadcast = match cl.broadcast_id {
                        Some(b) if !cache.contains_key(&b) => {
                            cache.insert(b, broadcasts::get(c, b)?);
                            cache.get(&b)
                        }
                        Some(b) => cache.get(&b),
                        None => None,
                    };
                    if let Some(b) = broadcast {
                        // Leased before a pause or cancel took effect: back to the queue, or cancelled.
                        match b.state {
                            BroadcastState::Paused => {
                                dropped.push((cl, Outcome::Release));
                                continue;
                            }
                            BroadcastState::Cancelled => {
                                dropped.push((cl, Outcome::Cancel { reason: Reason::BroadcastCancelled }));
                                continue;
                            }
                            _ => {}
                        }
                        if b.deadline.is_some_and(|d| d <= now) {
                            dropped.push((cl, Outcome::Cancel { reason: Reason::DeadlinePassed }));
                            continue;
                        }
                    }
                    let id = SubscriberId(cl.subscriber_id);
                    let transport = cl.transport;
                    let Some(stored) = subs::key_and_address(c, cl.subscriber_id, transport)? else {
                        dropped.push((cl, Outcome::Cancel { reason: Reason::AddressGone }));
                        continue;
                    };
                    // A broadcast with a second language's version: the subscribers of that language get it.
                    let translated = match broadcast.and_then(|b| b.translation.as_ref()) {
                        Some(t) if cl.body_sealed.is_none() => {
                            let (language, _) = subs::language_and_since(c, cl.subscriber_id)?;
                            (language == t.lang.code()).then_some(t)
                        }
                        _ => None,
                    };
                    // A row that cannot be opened fails alone; it never stops the rest of the batch.
                    let opened = (|| -> Result<(Address, String, Option<String>, Option<String>), String> {
                        let key = vault.unwrap_data_key(id, &stored.wrapped_key).map_err(|e| e.to_string())?;
                        let plain = key.open_string("address", &stored.address).map_err(|e| e.to_string())?;
                        let to = Address::from_stored(transport, &plain).map_err(|e| e.to_string())?;
                        let room = match &stored.room {
                            Some(r) => Some(key.open_string(ROOM_AAD, r).map_err(|e| e.to_string())?.to_string()),
                            None => None,
                        };
                        match (&cl.body_sealed, broadcast) {
                            (Some(body), _) => {
                                let text = key.open_string("reply", body).map_err(|e| e.to_string())?;
                                Ok((to, text.to_string(), None, room))
                            }
                            (None, Some(b)) => match translated {
                                Some(t) => Ok((to, t.sms_text.clone(), t.html.clone(), room)),
                                None => Ok((to, b.sms_text.clone(), b.html.clone(), room)),
                            },
                            (None, None) => Err("a delivery without a body".into()),
                        }
                    })();
                    let (to, text, html, room) = match opened {
                        Ok(v) => v,
                        Err(error) => {
                            tracing::error!(delivery = cl.id, %error, "a delivery cannot be prepared; it fails");
                            dropped.push((cl, Outcome::Failed { error: Reason::Unreadable }));
                            continue;
                        }
                    };
                    // Only transports that keep quiet hours read the channels' rules.
                    if let (Some(b), None, true) = (broadcast, &cl.body_sealed, quiet.transports.contains(&transport)) {
                        let hours = match nights.entry((b.id, transport)) {
                            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                            std::collections::hash_map::Entry::Vacant(e) => {
                                let rules = broadcasts::quiet_rules(c, b.id)?;
                                e.insert(rules.iter().filter_map(|r| quiet.for_channel(r, transport)).collect())
                            }
                        };
                        let at = morning(hours, &to, home.tz(), now);
                        if at > now {
                            dropped.push((cl, Outcome::Deferred { at, error: Reason::QuietHours }));
                            continue;
                        }
                    }
                    let mut msg = crate::transport::OutboundMessage::new(cl.id, to, text, html, room);
                    (msg.recipient, msg.reply, msg.via) = (cl.subscriber_id, cl.broadcast_id.is_none(), cl.via.clone());
                    jobs.push(Job { claimed: cl, transport, msg });
                }
                Ok((jobs, dropped))
            })
            .await
            .map_err(Into::into)
    }

    /// Records the outcomes of a batch in one transaction.
    pub async fn record_outcomes(&self, results: Vec<(Claimed, Outcome)>) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let (now, counts) = (self.now(), count_outcomes(&results));
        self.store().call(move |c| outbox::record(c, &results, now)).await?;
        self.add_to_metrics(counts);
        Ok(())
    }

    /// Periodic chores: expired leases back to the queue, due schedules started, stale opt-ins expired.
    pub async fn chores(&self) -> Result<()> {
        let now = self.now();
        let (reclaimed, _) =
            self.store().call(move |c| Ok((outbox::reclaim_expired(c, now)?, reports::expire_early(c, now)?))).await?;
        if reclaimed > 0 {
            tracing::warn!(deliveries = reclaimed, "leases ran out; the deliveries are queued again");
        }
        self.start_due_broadcasts().await?;
        self.expire_pending().await?;
        self.run_confirmed_erasures().await?;
        Ok(())
    }

    /// At start (the data directory is locked, so no other worker runs): every leased row goes back to
    /// the queue at once instead of waiting for its lease to run out.
    pub async fn reclaim_leases_at_start(&self) -> Result<usize> {
        let now = self.now();
        let n = self.store().call(move |c| outbox::reclaim_all(c, now)).await?;
        if n > 0 {
            tracing::warn!(deliveries = n, "deliveries were in flight when herold stopped; they are queued again");
        }
        Ok(n)
    }

    /// Deliveries queued or leased (for tests and the idle check).
    pub async fn outbox_pending(&self) -> Result<i64> {
        Ok(self.store().call(|c| outbox::pending(c)).await?)
    }
}

/// When a broadcast may reach `to` given the quiet hours it keeps: `now`, or the morning where they
/// are (their number's country; the installation's zone for a Matrix id or an unknown country). A
/// broadcast to several channels keeps the hours of each.
fn morning(hours: &[QuietHours], to: &Address, home: &jiff::tz::TimeZone, now: i64) -> i64 {
    if hours.is_empty() {
        return now;
    }
    let zones: Vec<&jiff::tz::TimeZone> = match to {
        Address::Phone(_, number) => quiet::zones_of_number(number.as_str())
            .map(|names| names.iter().filter_map(|n| quiet::zone(n)).collect())
            .unwrap_or_default(),
        _ => vec![],
    };
    let zones = if zones.is_empty() { vec![home] } else { zones };
    let mut at = now;
    for _ in 0..4 {
        let later = hours.iter().map(|q| q.next_allowed_in_all(&zones, at)).max().unwrap_or(at);
        if later == at {
            break;
        }
        at = later;
    }
    at
}

impl Service {
    /// Applies a gateway's delivery report (`error`: the gateway's status for a failure, kept as it
    /// gives it); `false` when no sent delivery has that gateway id yet (the
    /// report is kept and applied when its send is recorded: a fast SMSC can report before that).
    pub async fn delivery_report(
        &self,
        transport: Transport,
        gateway_id: &str,
        delivered: bool,
        error: Option<String>,
    ) -> Result<bool> {
        let (now, gid) = (self.now(), gateway_id.to_string());
        let error = error.map(|detail| Reason::GatewayReported { detail });
        Ok(self.store().call(move |c| reports::report(c, transport, &gid, delivered, error.as_ref(), now)).await?)
    }
}

/// How long a message the phone held for its sending limit waits before it is tried again.
pub const LIMIT_WAIT: i64 = 15 * 60;

impl Service {
    /// The gateway took a message but could not send it for now (a phone's sending limit): it goes
    /// back to the queue for [`LIMIT_WAIT`], with the reason the broadcast page shows.
    pub async fn delivery_held(&self, transport: Transport, gateway: &str, gateway_id: &str) -> Result<bool> {
        let (now, gid) = (self.now(), gateway_id.to_string());
        let reason = Reason::GatewayLimitReached { gateway: gateway.into() };
        let held =
            self.store().call(move |c| reports::requeue(c, transport, &gid, &reason, now, now + LIMIT_WAIT)).await?;
        if held {
            tracing::info!(gateway, "the phone reported a sending limit; the message waits and is tried again");
        }
        Ok(held)
    }
}

/// What a group of recorded outcomes adds to the metrics (counted before the write, added once it
/// committed).
#[derive(Default)]
struct OutcomeCounts {
    by_result: HashMap<(Transport, DeliveryResult), u64>,
    rate_limited: Vec<RateLimit>,
    /// Replies done with: subscriber, transport, sent.
    replies: Vec<(i64, Transport, bool)>,
}

fn count_outcomes(results: &[(Claimed, Outcome)]) -> OutcomeCounts {
    let mut c = OutcomeCounts::default();
    for (claimed, outcome) in results {
        let result = match outcome {
            Outcome::Sent { .. } => DeliveryResult::Sent,
            Outcome::Retry { .. } => DeliveryResult::Retried,
            Outcome::Deferred { error, .. } => {
                match error {
                    Reason::RateLimitedGateway => c.rate_limited.push(RateLimit::Gateway),
                    Reason::RateLimitedHomeserver => c.rate_limited.push(RateLimit::Homeserver),
                    _ => {}
                }
                DeliveryResult::Deferred
            }
            Outcome::Failed { .. } => DeliveryResult::Failed,
            Outcome::Cancel { .. } => DeliveryResult::Cancelled,
            Outcome::Release => continue,
        };
        *c.by_result.entry((claimed.transport, result)).or_default() += 1;
        if claimed.broadcast_id.is_none()
            && matches!(result, DeliveryResult::Sent | DeliveryResult::Failed | DeliveryResult::Cancelled)
        {
            c.replies.push((claimed.subscriber_id, claimed.transport, result == DeliveryResult::Sent));
        }
    }
    c
}
