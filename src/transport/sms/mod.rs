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
use super::{OutboundMessage, Receipt, SendError, Slot, Transport};
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
    Priority,
    RoundRobin,
}

struct Route {
    gateway: Arc<dyn Transport>,
    bucket: Bucket,
    watch: Arc<watch::Watch>,
}

/// Spreads SMS over the configured gateways, each paced at its own rate: [`Transport::reserve`]
/// picks the gateway whose bucket has room (the first by priority, or the next in turn) and the
/// message goes there.
pub struct Router {
    routes: Vec<Route>,
    routing: Routing,
    next: AtomicUsize,
}

impl Router {
    /// `gateways` in priority order, each with its rate in segments per second and what watches
    /// whether it answers (every send through it tells).
    pub fn new(gateways: Vec<(Arc<dyn Transport>, f64, Arc<watch::Watch>)>, routing: Routing) -> Self {
        let routes = gateways
            .into_iter()
            .map(|(gateway, rate, watch)| Route { gateway, bucket: Bucket::new(rate), watch })
            .collect();
        Self { routes, routing, next: AtomicUsize::new(0) }
    }
}

impl Transport for Router {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let route = self.routes.get(msg.slot.0).ok_or(SendError::Permanent(Reason::NoGatewayRoute))?;
            let result = route.gateway.send(msg).await;
            route.watch.sent(&result);
            if let Err(SendError::Transient { retry_after: Some(d), .. } | SendError::RateLimited { retry_after: d }) =
                &result
            {
                route.bucket.hold(*d);
            }
            result
        })
    }

    fn reserve(&self, units: u32) -> Result<Slot, Duration> {
        match self.routing {
            // The next gateway in turn, once its bucket has room (the turn moves on only then).
            Routing::RoundRobin => {
                let i = self.next.load(Ordering::Relaxed) % self.routes.len();
                self.routes[i].bucket.try_take(units)?;
                self.next.store(i + 1, Ordering::Relaxed);
                Ok(Slot(i))
            }
            // The first gateway with room.
            Routing::Priority => {
                let mut soonest = Duration::MAX;
                for (i, r) in self.routes.iter().enumerate() {
                    match r.bucket.try_take(units) {
                        Ok(()) => return Ok(Slot(i)),
                        Err(wait) => soonest = soonest.min(wait),
                    }
                }
                Err(soonest)
            }
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
    use crate::domain::{Address, E164};

    struct Counting(AtomicU32);

    fn watch(name: &str) -> Arc<watch::Watch> {
        Arc::new(watch::Watch::new(name, "http://127.0.0.1:9/"))
    }

    impl Transport for Counting {
        fn send<'a>(&'a self, _: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Ok(Receipt { gateway_id: String::new() }) })
        }
        fn segments_per_second(&self) -> Option<f64> {
            None
        }
        fn reserve(&self, _: u32) -> Result<Slot, Duration> {
            Ok(Slot::default())
        }
    }

    async fn spread(routing: Routing, rates: [f64; 2], n: u32) -> [u32; 2] {
        let (a, b) = (Arc::new(Counting(AtomicU32::new(0))), Arc::new(Counting(AtomicU32::new(0))));
        let router = Router::new(
            vec![(a.clone() as Arc<dyn Transport>, rates[0], watch("a")), (b.clone(), rates[1], watch("b"))],
            routing,
        );
        let to = Address::Phone(crate::domain::Transport::Sms, E164::parse("+4915112345678", "DE").unwrap());
        for i in 0..n {
            let mut msg = OutboundMessage::new(i64::from(i), to.clone(), "Hallo".into(), None, None);
            msg.slot = loop {
                match router.reserve(msg.pace_units()) {
                    Ok(slot) => break slot,
                    Err(wait) => tokio::time::sleep(wait).await,
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
        let gw = || Arc::new(Counting(AtomicU32::new(0))) as Arc<dyn Transport>;
        let router = Router::new(vec![(gw(), 1.0, watch("a")), (gw(), 1000.0, watch("b"))], Routing::RoundRobin);
        assert_eq!(router.reserve(1), Ok(Slot(0)));
        assert_eq!(router.reserve(1), Ok(Slot(1)));
        // The first gateway's one segment a second is used up: the turn waits for it.
        let wait = router.reserve(1).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(router.reserve(1).is_err(), "the turn did not move on to the second gateway");
        // By priority the second gateway takes what the first has no room for.
        let router = Router::new(vec![(gw(), 1.0, watch("a")), (gw(), 1000.0, watch("b"))], Routing::Priority);
        assert_eq!(router.reserve(1), Ok(Slot(0)));
        assert_eq!(router.reserve(1), Ok(Slot(1)));
    }

    #[tokio::test]
    async fn round_robin_alternates() {
        assert_eq!(spread(Routing::RoundRobin, [1000.0, 1000.0], 10).await, [5, 5]);
    }
}
