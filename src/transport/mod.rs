//! `Transport`: how a message leaves herold. Errors are classed transient (retry), permanent (give up)
//! or misconfigured (pause and tell the admin). Concrete transports live in submodules.

#[cfg(feature = "matrix")]
pub mod matrix;
pub mod pacing;
pub mod sandbox;
pub mod sms;

use crate::domain::Reason;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::domain::Address;
use crate::domain::segments::{self, Segments};

/// Which of a transport's routes took a message's place in its pace (for SMS: which gateway), and
/// what it took of that route's quotas; transports with one route use the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slot {
    pub route: usize,
    pub usage: Option<crate::domain::quota::Usage>,
}

impl Slot {
    pub fn route(route: usize) -> Self {
        Self { route, usage: None }
    }
}

/// Why a message cannot be sent now: its route's pace has no room for this long, or a quota holds
/// it until a time (the row then waits in the outbox, with the reason the broadcast page shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    Pace(Duration),
    Until { at: i64, reason: Reason },
}

/// One message for one address.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// The outbox row; transports that support it use it as their idempotency key.
    pub delivery_id: i64,
    pub to: Address,
    pub text: String,
    /// Formatted version for transports that show HTML (Matrix newsletters).
    pub html: Option<String>,
    /// The room the recipient is reached in (their Matrix DM), as stored with them; `None` when
    /// herold knows none yet.
    pub room: Option<String>,
    /// The text's SMS segments, counted once when the message is made ([`OutboundMessage::new`]).
    pub segments: Segments,
    /// The route [`Transport::reserve`] gave it.
    pub slot: Slot,
    /// The subscriber it goes to (pseudonymous; quotas count distinct recipients).
    pub recipient: i64,
    /// A reply to someone who wrote (not a broadcast): it may use a quota's reserve.
    pub reply: bool,
    /// The gateway the recipient wrote through: a reply goes back the same way when it can.
    pub via: Option<String>,
}

impl OutboundMessage {
    pub fn new(delivery_id: i64, to: Address, text: String, html: Option<String>, room: Option<String>) -> Self {
        let segments = segments::count(&text);
        Self {
            delivery_id,
            to,
            text,
            html,
            room,
            segments,
            slot: Slot::default(),
            recipient: 0,
            reply: false,
            via: None,
        }
    }

    /// What the message takes of its transport's pace: its SMS segments, or 1 on Matrix (a message
    /// there is not split).
    pub fn pace_units(&self) -> u32 {
        match self.to {
            Address::Matrix(_) => 1,
            Address::Phone(..) => self.segments.parts.max(1),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Receipt {
    /// The gateway's id for the message (for delivery reports).
    pub gateway_id: String,
    /// What it took of the gateway's quotas (stored with the outcome).
    pub usage: Option<crate::domain::quota::Usage>,
}

impl Receipt {
    pub fn new(gateway_id: String) -> Self {
        Self { gateway_id, usage: None }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure: {reason}")]
    Transient { reason: Reason, retry_after: Option<Duration> },
    /// The gateway or homeserver says "too many, wait": not a failure, and not counted as an attempt.
    #[error("rate-limited, wait {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// The gateway or homeserver cannot be reached at all (connection refused, timed out): not this
    /// message's fault, so not counted as an attempt; retried every few seconds until it is back.
    #[error("unreachable: {0}")]
    Unreachable(Reason),
    #[error("permanent failure: {0}")]
    Permanent(Reason),
    #[error("transport misconfigured: {0}")]
    Misconfigured(Reason),
    /// The provider refuses this recipient because they opted out with the provider (Twilio 21610).
    #[error("the recipient opted out with the provider: {0}")]
    OptedOut(Reason),
    /// The room the recipient is reached in is gone (they left it or removed the bot): they left.
    #[error("the recipient's room is gone: {0}")]
    Gone(Reason),
    /// Not sent: herold had no room stored for the recipient, and the transport found their DM or
    /// opened one. herold stores it with them first and then sends again, into that room only.
    #[error("a room for the recipient was found or opened; it is stored before anything is sent")]
    RoomChosen(String),
}

impl SendError {
    /// What this answer says about the route itself: `Err` it is down (not reached, failing, or
    /// refusing herold's credentials), `Ok` it answered (even when it refused this message).
    pub fn route_health(&self) -> Result<(), Reason> {
        match self {
            SendError::Unreachable(r) | SendError::Misconfigured(r) => Err(r.clone()),
            SendError::Transient { reason: Reason::GatewayAnswered { status: 429, .. }, .. } => Ok(()),
            SendError::Transient { reason, .. } => Err(reason.clone()),
            _ => Ok(()),
        }
    }

    /// Why the message was not sent, as a page shows it (`kind`: whose rate limit it was).
    pub fn reason(self, kind: crate::domain::Transport) -> Reason {
        match self {
            SendError::Transient { reason, .. }
            | SendError::Unreachable(reason)
            | SendError::Permanent(reason)
            | SendError::OptedOut(reason)
            | SendError::Gone(reason) => reason,
            SendError::Misconfigured(cause) => Reason::Misconfigured { cause: cause.boxed() },
            SendError::RateLimited { .. } if kind == crate::domain::Transport::Matrix => Reason::RateLimitedHomeserver,
            SendError::RateLimited { .. } => Reason::RateLimitedGateway,
            SendError::RoomChosen(_) => Reason::DmGone,
        }
    }
}

pub trait Transport: Send + Sync + 'static {
    /// Sends one message. Must not log the address or the text.
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>>;
    /// Sends per second this transport takes, in SMS segments (`None`: no limit), for estimates.
    fn segments_per_second(&self) -> Option<f64>;
    /// Takes the message's place (its [`OutboundMessage::pace_units`]) in the transport's pace, and
    /// its quotas, now, and says which route took it; or says how long until it can, or until when
    /// a quota holds it. This is the only place a message is paced: each gateway's bucket and
    /// quotas (SMS), the bot's bucket (Matrix), the sandbox's. Unpaced transports always have room.
    fn reserve(&self, msg: &OutboundMessage) -> Result<Slot, Hold>;
    /// Takes one post into a room the transport owns from its pace, or says how long until it can.
    fn reserve_room_post(&self) -> Result<(), Duration> {
        Ok(())
    }
    /// Posts one message into a room the transport owns (Matrix announcement rooms); `key` makes a
    /// repeat harmless. Transports without rooms refuse.
    fn post_to_room<'a>(
        &'a self,
        room: &'a str,
        key: &'a str,
        text: &'a str,
        html: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        let _ = (room, key, text, html);
        Box::pin(async { Err(SendError::Permanent(Reason::NoRooms)) })
    }
}

/// One gateway (or the bot) offered for the test send: sends outside the outbox, with a fresh negative
/// id as its idempotency key so it can never match a delivery row or an earlier test.
pub struct Tester {
    kind: crate::domain::Transport,
    inner: std::sync::Arc<dyn Transport>,
}

impl Tester {
    pub fn new(kind: crate::domain::Transport, inner: std::sync::Arc<dyn Transport>) -> Self {
        Self { kind, inner }
    }
}

impl crate::domain::hook::TestSend for Tester {
    fn transport(&self) -> crate::domain::Transport {
        self.kind
    }

    fn test_send<'a>(
        &'a self,
        to: &'a Address,
        text: &'a str,
        html: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, Reason>> {
        Box::pin(async move {
            let micros = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
            // One message outside the outbox: sent straight to the gateway or the bot, not paced.
            let msg = OutboundMessage::new(-micros, to.clone(), text.to_string(), html.map(str::to_string), None);
            let sent = match self.inner.send(&msg).await {
                // The test goes to the DM the bot found or opened (a test send stores no room).
                Err(SendError::RoomChosen(room)) => self.inner.send(&OutboundMessage { room: Some(room), ..msg }).await,
                other => other,
            };
            sent.map(|r| r.gateway_id).map_err(|e| e.reason(self.kind))
        })
    }
}
