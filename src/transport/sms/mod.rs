//! SMS through one or more HTTP gateways (Kannel, SMS Gateway for Android, Twilio-style): the router
//! that spreads messages over them by priority or round robin, each at its own rate in segments, and
//! what the gateways share (settings, how an HTTP answer becomes a send error).

pub mod android;
pub mod kannel;
pub mod twilio;
pub mod watch;

use crate::domain::Reason;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use zeroize::Zeroizing;

use super::pacing::Bucket;
use super::{Hold, OutboundMessage, Receipt, SendError, Slot, Transport};
use crate::domain::hook::StatusSource;
use crate::domain::quota::{Held, QuotaBook};
use crate::domain::segments;

/// What every gateway is configured with (the app maps the configuration onto this).
#[derive(Clone)]
pub struct GatewaySettings {
    pub name: String,
    /// Base URL of the gateway's API, without a trailing `/`.
    pub url: String,
    pub username: String,
    pub password: Zeroizing<String>,
    pub webhook_secret: Option<Zeroizing<String>>,
    pub sender: String,
    pub max_parts: u32,
    pub timeout: Duration,
    /// Where this gateway's webhooks arrive: `<public_url>/hooks/sms/<name>`.
    pub hook_base: String,
    /// Android: the SIM card to send from.
    pub sim_number: Option<u8>,
}

impl GatewaySettings {
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("herold/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with static settings builds")
    }

    /// Refuses a message with more parts than the gateway may send, instead of letting it be cut
    /// short.
    pub fn check_parts<'m>(&self, msg: &'m OutboundMessage) -> Result<&'m segments::Segments, SendError> {
        let s = &msg.segments;
        if s.parts > self.max_parts {
            return Err(SendError::Permanent(Reason::TooManyParts {
                gateway: self.name.clone(),
                parts: s.parts,
                max: self.max_parts,
            }));
        }
        Ok(s)
    }
}

/// A connection or timeout error. A connection that could not be made (refused, no route, DNS) never
/// reached the gateway: the gateway is down, not this message at fault, so it is not counted as an
/// attempt and tried again every few seconds until the gateway is back. A timeout or a connection cut
/// after the request went out may have sent the SMS: counted, so a message is not repeated forever.
/// The error text of reqwest names the URL, which for Kannel's GET API holds the number, so only the
/// kind of failure is kept.
pub fn request_failed(gateway: &str, e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        return SendError::Unreachable(Reason::GatewayUnreachable { gateway: gateway.into() });
    }
    let gateway = gateway.into();
    let reason = if e.is_timeout() { Reason::GatewayTimedOut { gateway } } else { Reason::GatewayFailed { gateway } };
    SendError::Transient { reason, retry_after: None }
}

/// Classes an unsuccessful HTTP answer: 429 and 5xx are temporary (honouring `Retry-After`), 401 and
/// 403 mean the credentials are wrong, any other 4xx refuses this message for good.
pub fn status_error(gateway: &str, status: reqwest::StatusCode, retry_after: Option<&str>) -> SendError {
    let code = status.as_u16();
    if code == 429 || status.is_server_error() {
        let retry_after = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
        SendError::Transient { reason: Reason::GatewayAnswered { gateway: gateway.into(), status: code }, retry_after }
    } else if code == 401 || code == 403 {
        SendError::Misconfigured(Reason::GatewayRefusedCredentials { gateway: gateway.into(), status: code })
    } else {
        SendError::Permanent(Reason::GatewayRefusedMessage { gateway: gateway.into(), detail: code.to_string() })
    }
}

/// What is wrong with a JSON body, without quoting it (serde's messages can quote values).
pub fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "missing or wrong fields",
        serde_json::error::Category::Eof => "cut short",
    }
}

/// The phone number of an outbound message (the router only gets SMS addresses).
pub fn number(msg: &OutboundMessage) -> Result<&str, SendError> {
    match &msg.to {
        crate::domain::Address::Phone(crate::domain::Transport::Sms, n) => Ok(n.as_str()),
        _ => Err(SendError::Permanent(Reason::BadAddress)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// The first gateway (by priority) with room in its pace and quotas.
    Priority,
    /// Each gateway in turn.
    RoundRobin,
    /// The gateway with the largest share of today's quota left, so that they run out together.
    Capacity,
}

/// One gateway as the router knows it.
pub struct Gateway {
    pub name: String,
    pub transport: Arc<dyn Transport>,
    /// Segments per second.
    pub rate: f64,
    pub watch: Arc<watch::Watch>,
}

struct Route {
    name: String,
    gateway: Arc<dyn Transport>,
    bucket: Bucket,
    watch: Arc<watch::Watch>,
}

/// Spreads SMS over the configured gateways, each paced at its own rate and held by its quotas:
/// [`Transport::reserve`] picks the gateway (a reply the one its recipient wrote through; then by
/// priority, in turn, or by the capacity left; a gateway that is down last) and the message goes
/// there.
pub struct Router {
    routes: Vec<Route>,
    routing: Routing,
    next: AtomicUsize,
    quotas: Arc<QuotaBook>,
}

impl Router {
    /// `gateways` in priority order.
    pub fn new(gateways: Vec<Gateway>, routing: Routing, quotas: Arc<QuotaBook>) -> Self {
        let routes = gateways
            .into_iter()
            .map(|g| Route { name: g.name, gateway: g.transport, bucket: Bucket::new(g.rate), watch: g.watch })
            .collect();
        Self { routes, routing, next: AtomicUsize::new(0), quotas }
    }

    /// The gateways to try for `msg`, best first.
    fn candidates(&self, msg: &OutboundMessage) -> Vec<usize> {
        let n = self.routes.len();
        let mut order: Vec<usize> = match self.routing {
            Routing::Priority => (0..n).collect(),
            Routing::RoundRobin => {
                let start = self.next.load(Ordering::Relaxed) % n.max(1);
                (0..n).map(|i| (start + i) % n).collect()
            }
            Routing::Capacity => {
                let mut by: Vec<(usize, f64)> =
                    (0..n).map(|i| (i, self.quotas.share_left(&self.routes[i].name))).collect();
                by.sort_by(|a, b| b.1.total_cmp(&a.1));
                by.into_iter().map(|(i, _)| i).collect()
            }
        };
        // A reply goes back through the gateway its recipient wrote to (the same sender number).
        if let Some(pos) = msg.via.as_ref().and_then(|v| order.iter().position(|&i| self.routes[i].name == *v)) {
            let i = order.remove(pos);
            order.insert(0, i);
        }
        // A gateway that is down is tried last.
        order.sort_by_key(|&i| self.routes[i].watch.health().up() == Some(false));
        order
    }
}

impl Transport for Router {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let route = self.routes.get(msg.slot.route).ok_or(SendError::Permanent(Reason::NoGatewayRoute))?;
            let result = route.gateway.send(msg).await;
            route.watch.sent(&result);
            if let Err(SendError::Transient { retry_after: Some(d), .. } | SendError::RateLimited { retry_after: d }) =
                &result
            {
                route.bucket.hold(*d);
            }
            match result {
                Ok(mut receipt) => {
                    receipt.usage = msg.slot.usage.clone();
                    Ok(receipt)
                }
                Err(e) => {
                    // Not sent: what it took of the quotas is free again.
                    if let Some(u) = &msg.slot.usage {
                        self.quotas.give_back(u);
                    }
                    Err(e)
                }
            }
        })
    }

    fn reserve(&self, msg: &OutboundMessage) -> Result<Slot, Hold> {
        let units = msg.pace_units();
        let (mut pace, mut held): (Option<Duration>, Option<Held>) = (None, None);
        for i in self.candidates(msg) {
            let route = &self.routes[i];
            let usage = match self.quotas.take(&route.name, units, msg.recipient, msg.reply) {
                Ok(u) => u,
                Err(h) => {
                    held = Some(match held {
                        Some(o) if o.until <= h.until => o,
                        _ => h,
                    });
                    continue;
                }
            };
            match route.bucket.try_take(units) {
                Ok(()) => {
                    if self.routing == Routing::RoundRobin {
                        self.next.store(i + 1, Ordering::Relaxed);
                    }
                    return Ok(Slot { route: i, usage });
                }
                Err(wait) => {
                    if let Some(u) = &usage {
                        self.quotas.give_back(u);
                    }
                    pace = Some(pace.map_or(wait, |p| p.min(wait)));
                    // In turn, the gateway whose turn it is keeps it until its pace has room; a reply
                    // waits for the gateway its recipient wrote to. Unless that one is down.
                    let keeps = self.routing == Routing::RoundRobin || msg.via.as_deref() == Some(route.name.as_str());
                    if keeps && route.watch.health().up() != Some(false) {
                        break;
                    }
                }
            }
        }
        match (pace, held) {
            (Some(wait), _) => Err(Hold::Pace(wait)),
            (None, Some(h)) => Err(Hold::Until { at: h.until, reason: h.reason }),
            (None, None) => Err(Hold::Pace(Duration::from_secs(1))),
        }
    }

    /// The sum of the gateways' rates (for the ETA).
    fn segments_per_second(&self) -> Option<f64> {
        Some(self.routes.iter().map(|r| r.bucket.rate()).sum())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;
    use crate::domain::quota::Limits;
    use crate::domain::zone::Zone;
    use crate::domain::{Address, E164, ManualClock};

    struct Counting(AtomicU32);

    impl Transport for Counting {
        fn send<'a>(&'a self, _: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Ok(Receipt::new(String::new())) })
        }
        fn segments_per_second(&self) -> Option<f64> {
            None
        }
        fn reserve(&self, _: &OutboundMessage) -> Result<Slot, Hold> {
            Ok(Slot::default())
        }
    }

    fn counting() -> Arc<Counting> {
        Arc::new(Counting(AtomicU32::new(0)))
    }

    /// A router over `gateways` (name, transport, rate, day quota), the clock at a fixed noon.
    fn router(gateways: Vec<(&str, Arc<Counting>, f64, Option<u32>)>, routing: Routing) -> Router {
        let zone = Zone::parse("Europe/Berlin").unwrap();
        let clock = Arc::new(ManualClock::new(zone.from_input("2026-12-04T12:00").unwrap()));
        let limits = gateways
            .iter()
            .map(|(n, _, _, day)| (n.to_string(), Limits { parts_per_day: *day, ..Limits::default() }))
            .collect();
        let quotas = Arc::new(QuotaBook::new(clock, zone, limits));
        let gateways = gateways
            .into_iter()
            .map(|(name, t, rate, _)| Gateway {
                name: name.into(),
                transport: t,
                rate,
                watch: Arc::new(watch::Watch::new(name, "http://127.0.0.1:9/")),
            })
            .collect();
        Router::new(gateways, routing, quotas)
    }

    fn msg(i: i64) -> OutboundMessage {
        let to = Address::Phone(crate::domain::Transport::Sms, E164::parse("+4915112345678", "DE").unwrap());
        let mut m = OutboundMessage::new(i, to, "Hallo".into(), None, None);
        m.recipient = i;
        m
    }

    /// Sends `n` messages through the router as a lane does; returns how many each gateway took.
    async fn spread(routing: Routing, rates: [f64; 2], n: u32) -> [u32; 2] {
        let (a, b) = (counting(), counting());
        let router = router(vec![("a", a.clone(), rates[0], None), ("b", b.clone(), rates[1], None)], routing);
        for i in 0..n {
            let mut msg = msg(i64::from(i));
            msg.slot = loop {
                match router.reserve(&msg) {
                    Ok(slot) => break slot,
                    Err(Hold::Pace(wait)) => tokio::time::sleep(wait).await,
                    Err(h) => panic!("{h:?}"),
                }
            };
            router.send(&msg).await.unwrap();
        }
        assert_eq!(router.segments_per_second(), Some(rates[0] + rates[1]));
        [a.0.load(Ordering::Relaxed), b.0.load(Ordering::Relaxed)]
    }

    #[tokio::test]
    async fn priority_fills_the_first_gateway_up_to_its_rate_then_spills_over() {
        // The first gateway's burst is one second of its rate (3 segments); the rest goes to the second.
        assert_eq!(spread(Routing::Priority, [3.0, 1000.0], 10).await, [3, 7]);
    }

    #[test]
    fn a_gateway_without_room_keeps_its_turn_and_says_how_long() {
        let r = router(vec![("a", counting(), 1.0, None), ("b", counting(), 1000.0, None)], Routing::RoundRobin);
        assert_eq!(r.reserve(&msg(1)), Ok(Slot::route(0)));
        assert_eq!(r.reserve(&msg(2)), Ok(Slot::route(1)));
        // The first gateway's one segment a second is used up: the turn waits for it.
        let Err(Hold::Pace(wait)) = r.reserve(&msg(3)) else { panic!("a pace wait") };
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(r.reserve(&msg(3)).is_err(), "the turn did not move on to the second gateway");
        // By priority the second gateway takes what the first has no room for.
        let r = router(vec![("a", counting(), 1.0, None), ("b", counting(), 1000.0, None)], Routing::Priority);
        assert_eq!(r.reserve(&msg(1)), Ok(Slot::route(0)));
        assert_eq!(r.reserve(&msg(2)), Ok(Slot::route(1)));
    }

    #[tokio::test]
    async fn round_robin_alternates() {
        assert_eq!(spread(Routing::RoundRobin, [1000.0, 1000.0], 10).await, [5, 5]);
    }

    #[test]
    fn by_capacity_gateways_share_by_what_they_have_left_and_then_hold_until_tomorrow() {
        let r = router(vec![("a", counting(), 1e6, Some(30)), ("b", counting(), 1e6, Some(10))], Routing::Capacity);
        let mut took = [0, 0];
        for i in 0..40 {
            took[r.reserve(&msg(i)).unwrap().route] += 1;
        }
        assert_eq!(took, [30, 10]);
        let Err(Hold::Until { reason, .. }) = r.reserve(&msg(41)) else { panic!("held by the quotas") };
        assert!(matches!(reason, Reason::DayQuotaReached { .. }), "{reason:?}");
        // Halfway, both had the same share left: each took in proportion.
        let r = router(vec![("a", counting(), 1e6, Some(30)), ("b", counting(), 1e6, Some(10))], Routing::Capacity);
        let mut took = [0, 0];
        for i in 0..20 {
            took[r.reserve(&msg(i)).unwrap().route] += 1;
        }
        assert!((took[0] - 15i32).abs() <= 1 && (took[1] - 5i32).abs() <= 1, "{took:?}");
    }

    #[test]
    fn a_reply_goes_back_through_the_gateway_its_recipient_wrote_to() {
        let r = router(vec![("a", counting(), 1e6, None), ("b", counting(), 1e6, None)], Routing::Priority);
        let mut m = msg(1);
        m.via = Some("b".into());
        assert_eq!(r.reserve(&m).unwrap().route, 1);
        m.via = Some("gone".into());
        assert_eq!(r.reserve(&m).unwrap().route, 0, "an unknown gateway is ignored");
        // Its gateway's pace is full: the reply waits for it rather than change the sender number.
        let r = router(vec![("a", counting(), 1e6, None), ("b", counting(), 1.0, None)], Routing::Priority);
        m.via = Some("b".into());
        assert_eq!(r.reserve(&m).unwrap().route, 1);
        assert!(matches!(r.reserve(&m), Err(Hold::Pace(_))), "waits for b");
    }
}
