//! Use cases and their transaction boundaries: accounts and sessions, channels, subscribers, the ledger, operations.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod broadcasts;
pub mod channels;
pub mod conversation;
pub mod delivery;
pub mod drafts;
pub mod event_hooks;
pub mod export;
pub mod gateways;
pub mod import;
mod inbound;
mod key_stock;
pub mod lanes;
pub mod ops;
pub mod privacy;
pub mod quotas;
pub mod rooms;
pub mod running;
pub mod subscribers;
pub mod team;
pub mod test_send;
pub mod threads;

use std::fmt;
use std::sync::{Arc, Mutex};

/// Records the web layer shows, re-exported so that `web` names only the service.
pub use crate::store::admins::Admin;
pub use crate::store::broadcasts::Broadcast;
pub use crate::store::subscribers::Filter;
pub use crate::store::tokens::{ApiToken, Scope};

use crate::crypto::Vault;
use crate::domain::Problem;
use crate::domain::{Clock, Invalid, Transport};
use crate::store::{Store, StoreError};

/// Who did something: recorded in the ledger (and later the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Admin {
        id: i64,
        username: String,
    },
    Token {
        id: i64,
        name: String,
    },
    Subscriber,
    Cli,
    System,
    /// Someone not logged in (a failed login).
    Anonymous,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Admin { id, .. } => write!(f, "admin:{id}"),
            Actor::Token { id, .. } => write!(f, "token:{id}"),
            Actor::Subscriber => f.write_str("subscriber"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(Problem),
    /// A file named at the command line (a backup) cannot be used; English, like the rest of the CLI.
    #[error("{0}")]
    File(String),
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Invalid> for ServiceError {
    fn from(e: Invalid) -> Self {
        ServiceError::Invalid(e.0)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::Refused(m) => ServiceError::Invalid(m),
            StoreError::DiskFull | StoreError::Busy => ServiceError::Unavailable(e.to_string()),
            e => ServiceError::Internal(e.to_string()),
        }
    }
}

impl From<crate::crypto::CryptoError> for ServiceError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// ISO country for national phone numbers, e.g. `DE`.
    pub default_country: String,
    /// The installation's time zone: times people type and read, in pages and in messages.
    pub zone: crate::domain::zone::Zone,
    /// How long an admin session lasts, in seconds.
    pub session_ttl: i64,
    /// Language of a new subscriber whose first message does not tell (`de` or `en`).
    pub default_language: String,
    /// How long a double opt-in waits for YES/JA, in hours.
    pub confirm_hours: i64,
    /// Answer messages that are not commands with a short acknowledgement.
    pub auto_reply: bool,
    pub retention: privacy::Retention,
    /// What the privacy notice says about who runs herold and how long backups live.
    pub notice: privacy::NoticeSettings,
    /// What the public sign-up pages offer.
    pub signup: channels::SignupSettings,
    /// The installation's quiet hours and the transports they hold.
    pub quiet: QuietSettings,
    /// At most this many broadcasts per person and period, across all channels.
    pub cap: Option<crate::domain::Frequency>,
    /// Editors submit broadcasts for an owner's approval instead of sending them.
    pub approval: bool,
    /// What happens to a message that is neither a command nor a keyword.
    pub hand_off: HandOff,
}

/// A message that is neither a command nor a keyword opens a conversation for the team; when it
/// opens, herold answers once (`first_answer`), with another text outside `office_hours`.
#[derive(Debug, Clone, Copy)]
pub struct HandOff {
    pub first_answer: bool,
    pub office_hours: Option<crate::domain::quiet::OfficeHours>,
    /// Such a message opens the conversation for the team (and is announced in the team room);
    /// otherwise it is only kept, and the first answer comes after a day of quiet.
    pub open_for_team: bool,
}

impl Default for HandOff {
    fn default() -> Self {
        Self { first_answer: false, office_hours: None, open_for_team: true }
    }
}

/// The installation's quiet hours (`None`: none) and the transports whose broadcasts they hold.
#[derive(Debug, Clone, Default)]
pub struct QuietSettings {
    pub hours: Option<crate::domain::quiet::QuietHours>,
    pub transports: Vec<crate::domain::Transport>,
}

impl QuietSettings {
    /// The hours a channel's broadcasts keep on `transport` (`None`: any hour).
    pub fn for_channel(
        &self,
        rule: &crate::domain::quiet::QuietRule,
        transport: crate::domain::Transport,
    ) -> Option<crate::domain::quiet::QuietHours> {
        if self.transports.contains(&transport) { rule.hours(self.hours) } else { None }
    }

    /// The hours a channel's broadcasts keep on any transport, as its sign-up page tells them.
    pub fn shown(&self, rule: &crate::domain::quiet::QuietRule) -> Option<crate::domain::quiet::QuietHours> {
        if self.transports.is_empty() { None } else { rule.hours(self.hours) }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_country: "DE".into(),
            zone: Default::default(),
            session_ttl: 12 * 3600,
            default_language: "de".into(),
            confirm_hours: 48,
            auto_reply: false,
            retention: privacy::Retention::default(),
            notice: privacy::NoticeSettings::default(),
            signup: channels::SignupSettings::default(),
            quiet: QuietSettings::default(),
            cap: None,
            approval: false,
            hand_off: HandOff::default(),
        }
    }
}

/// The use cases, shared by the web layer, the CLI and the worker.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    vault: Arc<Vault>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    setup_token: Mutex<Option<String>>,
    /// Tells the delivery lanes that rows were queued (per transport) or that rows they hold may
    /// no longer be sent (an opt-out, a pause, a cancel).
    signals: lanes::Signals,
    /// The public address of this server, for links in messages (known once the listener is bound).
    public_url: Mutex<String>,
    /// The SMS gateways' webhook readers, by gateway name (set by the app).
    webhooks: Mutex<std::collections::HashMap<String, Arc<dyn crate::domain::hook::Webhook>>>,
    /// Transports that report their own state (the Matrix bot), by name.
    status_sources: Mutex<Vec<gateways::RouteSource>>,
    /// The Matrix bot, for announcement rooms (set by the app).
    room_host: Mutex<Option<Arc<dyn crate::domain::hook::RoomHost>>>,
    /// Each SMS gateway and the Matrix bot, by name, for the test send (set by the app).
    testers: Mutex<Vec<(String, Arc<dyn crate::domain::hook::TestSend>)>>,
    /// Content-Security-Policy violations browsers reported since start (a count, nothing else).
    csp_violations: std::sync::atomic::AtomicU64,
    /// The SMS gateway with the smallest `max_parts`, and that number (set by the app).
    sms_max_parts: Mutex<Option<(String, u32)>>,
    /// Data keys written ahead for first contacts.
    key_stock: key_stock::KeyStock,
    /// The counts `/metrics` shows.
    metrics: crate::metrics::Metrics,
    /// The SMS gateways' quotas, shared with the router (set by the app).
    quotas: Mutex<Option<Arc<crate::domain::quota::QuotaBook>>>,
}

impl Service {
    pub fn new(store: Store, vault: Arc<Vault>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                vault,
                clock,
                settings,
                setup_token: Mutex::new(None),
                signals: lanes::Signals::default(),
                public_url: Mutex::new("http://127.0.0.1:8080".into()),
                webhooks: Mutex::new(Default::default()),
                status_sources: Mutex::new(Vec::new()),
                room_host: Mutex::new(None),
                testers: Mutex::new(Vec::new()),
                csp_violations: Default::default(),
                sms_max_parts: Mutex::new(None),
                key_stock: Default::default(),
                metrics: Default::default(),
                quotas: Mutex::new(None),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn vault(&self) -> &Arc<Vault> {
        &self.inner.vault
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The clock every use case reads (tests move it).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// The counts `/metrics` shows (recorded by the use cases, the worker and the login page).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn public_url(&self) -> String {
        self.inner.public_url.lock().expect("public url lock").clone()
    }

    pub fn set_public_url(&self, url: &str) {
        *self.inner.public_url.lock().expect("public url lock") = url.trim_end_matches('/').to_string();
    }

    /// Tells every delivery lane that the outbox has new rows (a broadcast started).
    pub fn wake_worker(&self) {
        self.inner.signals.wake_all();
    }

    /// Tells the lane of `transport` that it has new rows (a reply was queued).
    pub fn wake_lane(&self, transport: Transport) {
        self.inner.signals.wake(transport);
    }

    /// Tells every lane that rows it holds may no longer be sent (opt-out, pause, cancel, erasure):
    /// each gives back what it has not sent yet and leases again.
    pub fn revoke_leases(&self) {
        self.inner.signals.revoke();
    }

    /// What a delivery lane listens to: new rows for its transport, and revocations.
    pub fn lane_signals(&self, transport: Transport) -> lanes::LaneSignals {
        self.inner.signals.subscribe(transport)
    }
}
