//! The counts `/metrics` shows in the Prometheus (OpenMetrics) text format: deliveries by transport
//! and result, the replies' latency, inbound messages and gateway webhooks, outgoing webhooks,
//! rate-limit answers, and what is read at each scrape (the queue, whether each route answers, the
//! last backup's age). Counts only: labels are transports, gateway names, results and limits, never
//! an address, a text or a person.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::domain::Transport;
use crate::domain::health::Health;

/// What a scrape sends: the OpenMetrics text format, which Prometheus reads.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Replies waiting to be timed at most (per process; more are not timed rather than kept).
const PENDING_REPLIES: usize = 10_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportResult {
    transport: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportOnly {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayResult {
    gateway: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultOnly {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Limit {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueState {
    transport: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    transport: &'static str,
    route: String,
}

/// What a recorded delivery came to, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryResult {
    Sent,
    /// Tried again later (a temporary error).
    Retried,
    /// Waits for a gateway's or homeserver's rate limit, a route that is down, quiet hours or a cap.
    Deferred,
    Failed,
    Cancelled,
}

impl DeliveryResult {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryResult::Sent => "sent",
            DeliveryResult::Retried => "retried",
            DeliveryResult::Deferred => "deferred",
            DeliveryResult::Failed => "failed",
            DeliveryResult::Cancelled => "cancelled",
        }
    }
}

/// Who answered "too many": a gateway or the homeserver to herold, or herold to someone logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    Gateway,
    Homeserver,
    Login,
}

/// What the queue, the routes and the backups look like at a scrape (read then, not counted).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Rows per transport: waiting to be sent, and leased by a lane now.
    pub queued: Vec<(Transport, i64)>,
    pub leased: Vec<(Transport, i64)>,
    /// Each SMS gateway and the Matrix bot (its homeserver).
    pub routes: Vec<(String, Transport, Health)>,
    /// Seconds since the last backup (`None`: none yet).
    pub backup_age: Option<i64>,
}

pub struct Metrics {
    registry: Registry,
    deliveries: Family<TransportResult, Counter>,
    reply_latency: Family<TransportOnly, Histogram, fn() -> Histogram>,
    inbound: Family<TransportResult, Counter>,
    gateway_hooks: Family<GatewayResult, Counter>,
    webhooks: Family<ResultOnly, Counter>,
    rate_limited: Family<Limit, Counter>,
    /// When each reply still to be timed was queued, by (subscriber, transport), oldest first.
    /// In memory only, never shown: the subscriber id only pairs a reply with its message.
    replies: Mutex<PendingReplies>,
}

/// Replies not yet timed: how many, and when each one's message arrived.
#[derive(Default)]
struct PendingReplies {
    count: usize,
    arrived: HashMap<(i64, Transport), VecDeque<Instant>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herold");
        let deliveries = Family::default();
        registry.register(
            "deliveries",
            "Deliveries recorded since start, by transport and result (sent per second: rate of result=\"sent\")",
            deliveries.clone(),
        );
        let reply_latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "reply_latency",
            "From a subscriber's message arriving to herold's reply being taken by the gateway or homeserver",
            Unit::Seconds,
            reply_latency.clone(),
        );
        let inbound = Family::default();
        registry.register(
            "inbound_messages",
            "Messages from subscribers handled, by transport and what they did",
            inbound.clone(),
        );
        let gateway_hooks = Family::default();
        registry.register(
            "gateway_webhooks",
            "Webhook calls of the SMS gateways, by gateway and how herold answered",
            gateway_hooks.clone(),
        );
        let webhooks = Family::default();
        registry.register(
            "event_webhooks",
            "herold's own webhook calls to your endpoints, by result",
            webhooks.clone(),
        );
        let rate_limited = Family::default();
        registry.register(
            "rate_limited",
            "Answers of too many requests: from a gateway or the homeserver to herold, or from herold to a login",
            rate_limited.clone(),
        );
        Self {
            registry,
            deliveries,
            reply_latency,
            inbound,
            gateway_hooks,
            webhooks,
            rate_limited,
            replies: Mutex::default(),
        }
    }
}

impl Metrics {
    /// `n` deliveries over `transport` came to `result`.
    pub fn delivered(&self, transport: Transport, result: DeliveryResult, n: u64) {
        let labels = TransportResult { transport: transport.as_str(), result: result.as_str() };
        self.deliveries.get_or_create(&labels).inc_by(n);
    }

    /// A message arrived on `transport` and was handled as `outcome` (`failed`: not stored).
    pub fn inbound(&self, transport: Transport, outcome: &'static str) {
        self.inbound.get_or_create(&TransportResult { transport: transport.as_str(), result: outcome }).inc();
    }

    /// A configured SMS gateway's webhook was answered with `result`.
    pub fn gateway_hook(&self, gateway: &str, result: &'static str) {
        self.gateway_hooks.get_or_create(&GatewayResult { gateway: gateway.to_string(), result }).inc();
    }

    /// One of herold's webhook calls ended with `result` (`delivered`, `retried`, `failed`).
    pub fn event_webhook(&self, result: &'static str) {
        self.webhooks.get_or_create(&ResultOnly { result }).inc();
    }

    pub fn rate_limited(&self, by: RateLimit) {
        let limit = match by {
            RateLimit::Gateway => "gateway",
            RateLimit::Homeserver => "homeserver",
            RateLimit::Login => "login",
        };
        self.rate_limited.get_or_create(&Limit { limit }).inc();
    }

    /// `n` replies to `subscriber` on `transport` were queued for a message that arrived at `arrived`.
    pub fn replies_queued(&self, subscriber: i64, transport: Transport, n: usize, arrived: Instant) {
        let mut r = self.replies.lock().expect("replies lock");
        if r.count + n > PENDING_REPLIES {
            // Replies never recorded (their rows were erased meanwhile) are forgotten after an hour.
            r.arrived.retain(|_, l| l.back().is_some_and(|t| t.elapsed().as_secs() < 3600));
            r.count = r.arrived.values().map(VecDeque::len).sum();
            if r.count + n > PENDING_REPLIES {
                return;
            }
        }
        r.count += n;
        r.arrived.entry((subscriber, transport)).or_default().extend(std::iter::repeat_n(arrived, n));
    }

    /// A reply to `subscriber` on `transport` is done with: `sent` times it.
    pub fn reply_done(&self, subscriber: i64, transport: Transport, sent: bool) {
        let mut r = self.replies.lock().expect("replies lock");
        let Some(list) = r.arrived.get_mut(&(subscriber, transport)) else { return };
        let arrived = list.pop_front();
        if list.is_empty() {
            r.arrived.remove(&(subscriber, transport));
        }
        if let Some(arrived) = arrived {
            r.count -= 1;
            if sent {
                let labels = TransportOnly { transport: transport.as_str() };
                self.reply_latency.get_or_create(&labels).observe(arrived.elapsed().as_secs_f64());
            }
        }
    }

    /// The text a scrape gets: the counters, then what `now` looks like.
    pub fn render(&self, now: &Snapshot) -> String {
        let mut scrape = Registry::with_prefix("herold");
        let queue: Family<QueueState, Gauge> = Family::default();
        for (state, rows) in [("queued", &now.queued), ("leased", &now.leased)] {
            for t in Transport::ALL {
                let n = rows.iter().find(|(r, _)| *r == t).map_or(0, |(_, n)| *n);
                queue.get_or_create(&QueueState { transport: t.as_str(), state }).set(n);
            }
        }
        scrape.register("outbox", "Deliveries in the queue now, by transport: waiting, and leased by a lane", queue);
        let up: Family<Route, Gauge> = Family::default();
        for (name, t, health) in &now.routes {
            if let Some(answers) = health.up() {
                up.get_or_create(&Route { transport: t.as_str(), route: name.clone() }).set(i64::from(answers));
            }
        }
        scrape.register(
            "route_up",
            "Whether each SMS gateway and the Matrix homeserver answered at the last send or check (1) or not (0); absent until known",
            up,
        );
        if let Some(age) = now.backup_age {
            let g: Gauge = Gauge::default();
            g.set(age);
            scrape.register_with_unit("backup_age", "Time since the last backup", Unit::Seconds, g);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry);
        let _ = encode_registry(&mut out, &scrape);
        let _ = encode_eof(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_timed_once_and_the_scrape_names_no_one() {
        let m = Metrics::default();
        m.replies_queued(7, Transport::Sms, 2, Instant::now());
        m.reply_done(7, Transport::Sms, true);
        m.reply_done(7, Transport::Sms, false);
        m.reply_done(7, Transport::Sms, true); // nothing left to time
        m.delivered(Transport::Sms, DeliveryResult::Sent, 3);
        m.gateway_hook("kannel", "stored");
        let snapshot = Snapshot {
            queued: vec![(Transport::Sms, 5)],
            leased: vec![],
            routes: vec![("kannel".into(), Transport::Sms, Health::Up { at: 1 })],
            backup_age: Some(60),
        };
        let text = m.render(&snapshot);
        assert!(text.contains("herold_reply_latency_seconds_count{transport=\"sms\"} 1"), "{text}");
        assert!(text.contains("herold_deliveries_total{transport=\"sms\",result=\"sent\"} 3"), "{text}");
        assert!(text.contains("herold_outbox{transport=\"sms\",state=\"queued\"} 5"), "{text}");
        assert!(text.contains("herold_route_up{transport=\"sms\",route=\"kannel\"} 1"), "{text}");
        assert!(text.contains("herold_backup_age_seconds 60"), "{text}");
        assert!(text.ends_with("# EOF\n"));
        assert!(!text.contains("subscriber=") && !text.contains("=\"7\""), "no label names a person: {text}");
    }
}
