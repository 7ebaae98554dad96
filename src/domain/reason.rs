//! Why a delivery waits, failed or was cancelled, and why a broadcast paused itself. Stored as a code
//! with its arguments (JSON, e.g. `{"code":"gateway-unreachable","gateway":"kannel"}`), shown in the
//! reader's language from `locales/<language>/reasons.ftl`. Never an address or a message text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Reason {
    /// A connection to the gateway could not be made: waiting for it.
    GatewayUnreachable {
        gateway: String,
    },
    GatewayTimedOut {
        gateway: String,
    },
    GatewayFailed {
        gateway: String,
    },
    /// A temporary HTTP error (429, 5xx).
    GatewayAnswered {
        gateway: String,
        status: u16,
    },
    GatewayRefusedCredentials {
        gateway: String,
        status: u16,
    },
    /// Refused for good; `detail` is the gateway's status or error code.
    GatewayRefusedMessage {
        gateway: String,
        detail: String,
    },
    /// The gateway answered something herold cannot read (`detail`: what is wrong, never the body).
    GatewayUnreadable {
        gateway: String,
        detail: String,
    },
    TooManyParts {
        gateway: String,
        parts: u32,
        max: u32,
    },
    NoGatewayRoute,
    /// A gateway's delivery report said it failed (`detail`: its status, as the gateway gives it).
    GatewayReported {
        detail: String,
    },
    OptedOutWithProvider {
        gateway: String,
    },
    RateLimitedGateway,
    /// The gateway's parts for today are used up (for broadcasts: all but the replies' reserve).
    DayQuotaReached {
        gateway: String,
    },
    /// The gateway reached its distinct recipients for this calendar month.
    MonthQuotaReached {
        gateway: String,
    },
    /// The phone said it hit a sending limit (Android's, or the app's own): waiting, not failed.
    GatewayLimitReached {
        gateway: String,
    },
    /// It is night (or Sunday) where the recipient is: the broadcast waits for the morning.
    QuietHours,
    /// The person already got as many broadcasts as the channel promised (or the installation's cap
    /// allows) in the period: it waits for the window, or they are skipped.
    CapReached,
    RateLimitedHomeserver,
    HomeserverUnreachable,
    HomeserverFailed,
    HomeserverRefused {
        errcode: String,
    },
    HomeserverError {
        errcode: String,
    },
    SessionRejected,
    BotNotConnected,
    NoMatrix,
    /// The subscriber's DM is gone (they left it, or removed the bot).
    DmGone,
    /// The bot is not (or no longer) in an announcement room.
    NotInRoom,
    BadRoom,
    /// The stored address is not one the transport can reach.
    BadAddress,
    NoRooms,
    /// No answer within the time a test send waits.
    NoAnswer {
        seconds: u64,
    },
    /// The sandbox phone could not write.
    SandboxFailed,
    /// The row could not be opened (its key or sealed address is unreadable).
    Unreadable,
    Misconfigured {
        #[schema(no_recursion)]
        cause: Box<Reason>,
    },
    GaveUp {
        attempts: i64,
        #[schema(no_recursion)]
        cause: Box<Reason>,
    },
    Left {
        #[schema(no_recursion)]
        cause: Box<Reason>,
    },
    OptedOut,
    BroadcastCancelled,
    DeadlinePassed,
    AddressGone,
    PausedByAdmin,
    PausedByApi,
    /// A broadcast paused itself: most recent attempts failed.
    FailingPaused {
        fails: i64,
        total: i64,
        #[schema(no_recursion)]
        cause: Box<Reason>,
    },
    /// Another system's webhook endpoint could not be reached (connection refused, name unknown).
    EndpointUnreachable,
    /// The endpoint did not answer within its time.
    EndpointTimedOut,
    /// The endpoint answered with a status other than 2xx.
    EndpointAnswered {
        status: u16,
    },
    /// Recorded by a herold before reasons were codes (migration 0010); its wording is not kept.
    Earlier,
}

impl Reason {
    pub fn boxed(self) -> Box<Reason> {
        Box::new(self)
    }
}

/// English, for logs and the API.
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::i18n::reason(crate::i18n::Lang::En, self))
    }
}
