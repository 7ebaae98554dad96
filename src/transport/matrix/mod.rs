//! Matrix through matrix-sdk: a bot account with end-to-end encryption. Each subscriber is reached in
//! their own encrypted DM room (no member list leaks); the delivery id is the Matrix transaction id,
//! so a retry or a restart never sends twice. The SDK's silent retries are off for sends: a
//! `M_LIMIT_EXCEEDED` comes back to the worker, whose token bucket then waits as the homeserver says.

mod recovery;
mod rooms;
mod session;
mod sync;

use crate::domain::Reason;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::{ErrorKind, LimitExceededErrorData, RetryAfter};
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedRoomId, OwnedTransactionId, OwnedUserId};
use matrix_sdk::{Client, Room};
use zeroize::Zeroizing;

pub use sync::run;

use super::{OutboundMessage, Receipt, SendError, Transport};
use crate::domain::health::Health;
use crate::domain::hook::StatusSource;
use crate::domain::{Address, Message};

/// What the bot needs to connect.
pub struct MatrixSettings {
    pub homeserver: String,
    pub user_id: String,
    pub password: Zeroizing<String>,
    pub device_name: String,
    /// The SDK's SQLite store (state, crypto, session), encrypted with `store_passphrase`.
    pub store_dir: PathBuf,
    pub store_passphrase: Zeroizing<String>,
    pub per_second: f64,
}

/// What the status page shows. Never a subscriber's id.
#[derive(Debug, Clone, Default)]
struct Status {
    device: Option<String>,
    logged_in: bool,
    syncing: bool,
    cross_signed: Option<bool>,
    last_error: Option<String>,
    rate_limited_until: Option<i64>,
    /// `M_LIMIT_EXCEEDED` answers since start.
    rate_limited: u64,
    recovery: recovery::RecoveryStatus,
    /// Whether the homeserver answers (see [`StatusSource::health`]).
    health: Health,
}

impl Status {
    fn reached(&mut self, found: Result<(), Reason>) {
        self.health.record(time::OffsetDateTime::now_utc().unix_timestamp(), found);
    }
}

pub struct Matrix {
    settings: MatrixSettings,
    client: tokio::sync::OnceCell<Client>,
    status: Mutex<Status>,
    /// Serialises the bot's read-modify-write of `m.direct` (opening a DM, marking a joined one):
    /// concurrent updates overwrite each other's entries.
    direct: tokio::sync::Mutex<()>,
    /// Recipients whose devices the bot knows (see [`Matrix::know_devices`]): checked once, not at
    /// every send. In memory only; after a restart each is checked once again.
    devices_known: Mutex<std::collections::HashSet<OwnedUserId>>,
    /// The recovery key until an owner has stored it (also kept in the SDK's store until then).
    recovery_key: Mutex<Option<Zeroizing<String>>>,
    /// The bot's pace (`rate`), shared by DMs and announcement rooms; held when the homeserver asks.
    bucket: crate::transport::pacing::Bucket,
}

impl Matrix {
    pub fn new(settings: MatrixSettings) -> Self {
        Self {
            client: tokio::sync::OnceCell::new(),
            status: Mutex::new(Status::default()),
            direct: tokio::sync::Mutex::new(()),
            devices_known: Mutex::new(Default::default()),
            recovery_key: Mutex::new(None),
            bucket: crate::transport::pacing::Bucket::new(settings.per_second),
            settings,
        }
    }

    /// The client once the bot has connected. Before that (the first start's login and key set-up
    /// take a few seconds) deliveries wait without using up attempts, as for a homeserver that is down.
    fn connected(&self) -> Result<&Client, SendError> {
        self.client.get().ok_or(SendError::Unreachable(Reason::BotNotConnected))
    }

    fn status_mut<R>(&self, f: impl FnOnce(&mut Status) -> R) -> R {
        f(&mut self.status.lock().expect("matrix status lock"))
    }

    /// The room stored with the subscriber, if the bot is still in it. A room the bot has left, was
    /// removed from, or does not know is the subscriber gone: herold never invites them elsewhere.
    fn stored_room(client: &Client, room: &str) -> Result<Room, SendError> {
        let id = OwnedRoomId::try_from(room).map_err(|_| SendError::Permanent(Reason::BadRoom))?;
        match client.get_room(&id) {
            Some(r) if r.state() == matrix_sdk::RoomState::Joined => Ok(r),
            _ => Err(SendError::Gone(Reason::DmGone)),
        }
    }

    /// Makes sure the bot knows the recipient's devices before it encrypts for them. matrix-sdk claims
    /// one-time keys under one lock for the whole client, and there waits up to 5 s for a pending
    /// `/keys/query` of each recipient whose devices it does not know yet, which only the sync loop
    /// sends: every other send waited behind it. A recipient's devices are asked for here, outside
    /// that lock, once (they are stored).
    async fn know_devices(&self, client: &Client, user: &OwnedUserId) {
        if self.devices_known.lock().expect("devices lock").contains(user) {
            return;
        }
        let known = match client.encryption().get_user_devices(user).await {
            Ok(devices) => devices.devices().next().is_some(),
            Err(_) => return,
        };
        if !known && let Err(e) = client.encryption().request_user_identity(user).await {
            tracing::debug!(error = %session::errcode(&e), "could not ask for a recipient's devices; the send asks");
            return;
        }
        self.devices_known.lock().expect("devices lock").insert(user.clone());
    }

    /// For a subscriber with no room stored (added by an admin, or from before rooms were stored):
    /// their DM as `m.direct` knows it, or else a new encrypted DM. Nothing is sent here; herold
    /// stores the room first.
    async fn choose_room(&self, client: &Client, user: &OwnedUserId) -> Result<String, SendError> {
        let _direct = self.direct.lock().await;
        if let Some(room) = client.get_dm_room(user) {
            return Ok(room.room_id().to_string());
        }
        let room = client.create_dm(user).await.map_err(|e| classify(&e, self))?;
        Ok(room.room_id().to_string())
    }
}

impl Matrix {
    /// Sends one message into `room` with `txn` as its transaction id (a repeat posts nothing new);
    /// HTML with a plain-text body when there is HTML.
    async fn post(&self, room: &Room, txn: &str, text: &str, html: Option<&str>) -> Result<Receipt, SendError> {
        let content = match html {
            Some(html) => RoomMessageEventContent::text_html(text, html),
            None => RoomMessageEventContent::text_plain(text),
        };
        let sent = room
            .send(content)
            .with_transaction_id(OwnedTransactionId::from(txn))
            .with_request_config(RequestConfig::new().disable_retry().timeout(Duration::from_secs(30)))
            .await
            .map_err(|e| classify(&e, self))?;
        Ok(Receipt::new(format!("matrix:{}", sent.response.event_id)))
    }
}

/// A connection that could not be made or timed out (the homeserver is down or unreachable), as
/// opposed to an answer or an error of our own.
fn unreachable(e: &matrix_sdk::Error) -> bool {
    match e {
        matrix_sdk::Error::Http(h) => match h.as_ref() {
            matrix_sdk::HttpError::Reqwest(r) => r.is_connect() || r.is_timeout(),
            _ => false,
        },
        _ => false,
    }
}

/// A send error as the worker understands it, naming only the Matrix error code (an error text may
/// quote a user id, and errors are stored with the delivery).
fn classify(e: &matrix_sdk::Error, m: &Matrix) -> SendError {
    match e.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(LimitExceededErrorData { retry_after, .. })) => {
            let wait = match retry_after {
                Some(RetryAfter::Delay(d)) => *d,
                _ => Duration::from_secs(1),
            };
            let until = time::OffsetDateTime::now_utc().unix_timestamp() + wait.as_secs() as i64 + 1;
            m.status_mut(|s| {
                s.rate_limited_until = Some(until);
                s.rate_limited += 1;
            });
            m.bucket.hold(wait);
            SendError::RateLimited { retry_after: wait }
        }
        Some(kind @ (ErrorKind::Forbidden | ErrorKind::NotFound | ErrorKind::InvalidParam)) => {
            SendError::Permanent(Reason::HomeserverRefused { errcode: kind.errcode().to_string() })
        }
        Some(ErrorKind::UnknownToken { .. }) => SendError::Misconfigured(Reason::SessionRejected),
        Some(kind) => SendError::Transient {
            reason: Reason::HomeserverError { errcode: kind.errcode().to_string() },
            retry_after: None,
        },
        None if unreachable(e) => {
            m.status_mut(|s| s.reached(Err(Reason::HomeserverUnreachable)));
            SendError::Unreachable(Reason::HomeserverUnreachable)
        }
        None => SendError::Transient { reason: Reason::HomeserverFailed, retry_after: None },
    }
}

impl Transport for Matrix {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let Address::Matrix(to) = &msg.to else {
                return Err(SendError::Permanent(Reason::BadAddress));
            };
            let client = self.connected()?;
            let user: OwnedUserId = to.as_str().try_into().map_err(|_| SendError::Permanent(Reason::BadAddress))?;
            let Some(room) = &msg.room else {
                return Err(SendError::RoomChosen(self.choose_room(client, &user).await?));
            };
            let room = Self::stored_room(client, room)?;
            self.know_devices(client, &user).await;
            // The delivery id as the transaction id: the homeserver answers a repeat with the first event.
            let sent = self.post(&room, &format!("herold-{}", msg.delivery_id), &msg.text, msg.html.as_deref()).await;
            if sent.is_ok() {
                self.status_mut(|s| s.reached(Ok(())));
            }
            sent
        })
    }

    fn post_to_room<'a>(
        &'a self,
        room: &'a str,
        key: &'a str,
        text: &'a str,
        html: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(self.post_to_announcement_room(room, key, text, html))
    }

    fn segments_per_second(&self) -> Option<f64> {
        Some(self.settings.per_second)
    }

    fn reserve(&self, msg: &OutboundMessage) -> Result<crate::transport::Slot, crate::transport::Hold> {
        self.bucket.reserve(msg.pace_units())
    }

    /// Room posts share the bot's pace with its DMs.
    fn reserve_room_post(&self) -> Result<(), Duration> {
        self.bucket.try_take(1)
    }
}

impl StatusSource for Matrix {
    /// Up once a sync succeeded; down from a failed sync or a send that did not reach the
    /// homeserver until the sync loop's next success.
    fn health(&self) -> Health {
        self.status.lock().expect("matrix status lock").health.clone()
    }

    fn status(&self) -> Vec<(Message, Message)> {
        let s = self.status.lock().expect("matrix status lock").clone();
        let text = |v: String| Message::new("mx-value").with("text", v);
        let yes_no = |b: bool| Message::new(if b { "mx-yes" } else { "mx-no" });
        let mut rows = vec![
            (Message::new("mx-bot-account"), text(self.settings.user_id.clone())),
            (Message::new("mx-homeserver"), text(self.settings.homeserver.clone())),
            (Message::new("mx-logged-in"), yes_no(s.logged_in)),
            (Message::new("mx-device"), text(s.device.unwrap_or_else(|| "—".into()))),
            (Message::new("mx-syncing"), yes_no(s.syncing)),
            (Message::new("mx-cross-signed"), s.cross_signed.map(yes_no).unwrap_or(Message::new("mx-unknown"))),
            (Message::new("mx-recovery"), Message::new(s.recovery.key())),
        ];
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(t) = s.rate_limited_until.filter(|t| *t > now) {
            rows.push((Message::new("mx-rate-limited-until"), text(crate::domain::clock::format_utc(t))));
        }
        rows.push((
            Message::new("mx-rate-limit-answers"),
            Message::new("mx-value").with("text", s.rate_limited.to_string()),
        ));
        rows.push((Message::new("mx-last-error"), s.last_error.map(text).unwrap_or(Message::new("mx-none"))));
        rows
    }

    fn pending_secret(&self) -> Option<(Message, Zeroizing<String>)> {
        self.pending_recovery_key().map(|k| (Message::new("mx-recovery-key"), k))
    }

    fn forget_pending_secret(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.forget_recovery_key())
    }
}
