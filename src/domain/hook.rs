//! What a gateway's webhook says, independent of the gateway: the request as received, the events
//! it carries, and the trait each SMS gateway implements to authenticate and read its own format.

/// An inbound webhook request, as the web layer received it.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The URL as the gateway called it (public URL + path + query), for signatures over the URL.
    pub url: String,
    /// The last path segment (`inbound`, `status`, `events`, `dlr`).
    pub endpoint: String,
    /// The raw query string (without `?`).
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Unix seconds when it arrived (for timestamp windows).
    pub now: i64,
}

impl HookRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Query parameters, percent-decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }
}

/// One thing a webhook reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    /// A message from a phone. `id` is the gateway's message id (retries carry the same one).
    Inbound { from: String, text: String, id: String },
    /// A message in a private room (a Matrix DM): the room is where everything for the sender goes.
    Direct { from: String, text: String, id: String, room: String },
    /// What became of a message herold sent. Ids here are the gateway's own; herold prefixes the
    /// gateway's name, as transports do in their receipts.
    /// `delivered`: `Some(true)` delivered, `Some(false)` failed, `None` an interim state (ignored).
    Report { gateway_id: String, delivered: Option<bool>, error: Option<String> },
    /// The gateway took the message but cannot send it for now (the phone hit a sending limit): it
    /// goes back to the queue, to be tried again later, not failed.
    Held { gateway_id: String },
    /// The subscriber ended the conversation on the transport itself (left the Matrix room, rejected
    /// the invite, kicked or banned the bot): an opt-out of every channel on that transport.
    Left { from: String, id: String, how: &'static str },
}

/// What a transport reports about itself for the status page (label, value), no addresses.
pub trait StatusSource: Send + Sync + 'static {
    /// Details for the Gateways page (label, value), in words shown in the reader's language.
    fn status(&self) -> Vec<(crate::domain::Message, crate::domain::Message)> {
        Vec::new()
    }

    /// Whether it answers, as its last send or check found.
    fn health(&self) -> crate::domain::health::Health;

    /// Checks now whether it answers, if nothing else told recently (called every minute).
    fn check(&self) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// A secret that an owner must see once and store elsewhere (the Matrix recovery key): its label
    /// and value, until [`Self::forget_pending_secret`].
    fn pending_secret(&self) -> Option<(crate::domain::Message, zeroize::Zeroizing<String>)> {
        None
    }

    /// The owner has stored the secret: forget it.
    fn forget_pending_secret(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// A transport that can open rooms of its own (the Matrix bot, for announcement rooms).
pub trait RoomHost: Send + Sync + 'static {
    /// Creates a room where only the bot may post, anyone with the link may join, and members can see
    /// each other. Returns its id. The error is safe to show (an error code, no ids).
    fn create_room<'a>(
        &'a self,
        name: &'a str,
        topic: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<String, String>>;
    /// Creates the team's room: end-to-end encrypted, by invitation only, with `invite` (Matrix ids)
    /// invited. Returns its id; the error is safe to show.
    fn create_team_room<'a>(
        &'a self,
        name: &'a str,
        invite: &'a [String],
    ) -> futures_util::future::BoxFuture<'a, Result<String, String>>;
    /// Members of the room other than the bot, as far as the bot has synced (an aggregate only).
    fn members<'a>(&'a self, room: &'a str) -> futures_util::future::BoxFuture<'a, Option<u64>>;
    /// The public link that opens the room in any Matrix client.
    fn link(&self, room: &str) -> String;
}

/// A gateway or bot that can send one message outside the outbox: the test send on the gateways page.
pub trait TestSend: Send + Sync + 'static {
    /// The kind of address it reaches.
    fn transport(&self) -> crate::domain::Transport;
    /// Sends `text` (on Matrix: `html` where given) to `to`. Ok: the gateway's id for the message;
    /// Err: why not (it never names the address).
    fn test_send<'a>(
        &'a self,
        to: &'a crate::domain::Address,
        text: &'a str,
        html: Option<&'a str>,
    ) -> futures_util::future::BoxFuture<'a, Result<String, crate::domain::Reason>>;
}

/// What to set up on a gateway's side: sentences to read (worded in the admin's language) and
/// configuration to copy as it is.
#[derive(Debug, Clone)]
pub struct SetupHint(pub Vec<SetupPart>);

#[derive(Debug, Clone)]
pub enum SetupPart {
    Say(crate::domain::Message),
    Copy(String),
}

impl SetupHint {
    /// The configuration parts, one after the other.
    pub fn config(&self) -> String {
        self.0.iter().filter_map(|p| if let SetupPart::Copy(c) = p { Some(c.as_str()) } else { None }).collect()
    }
}

/// Why a webhook was refused. Messages are safe to show: they name fields, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("the request is not authenticated: {0}")]
    Unauthorized(&'static str),
    #[error("the request is malformed: {0}")]
    Malformed(String),
}

/// A gateway's inbound side: authenticates a webhook and reads its events. Pure: no I/O.
pub trait Webhook: Send + Sync + 'static {
    /// Authenticates `req` and returns its events (empty: a notice herold does not need).
    fn read(&self, req: &HookRequest) -> Result<Vec<HookEvent>, HookError>;
    /// What the admin sets up on the gateway's side (shown to owners: it may hold the webhook secret).
    fn setup_hint(&self) -> SetupHint;
    /// The body and content type of a success answer (Twilio expects TwiML).
    fn success(&self) -> (&'static str, &'static str) {
        ("text/plain; charset=utf-8", "")
    }
}

/// The SMS gateway a message came through, from the id herold stored for it (`kannel:123`: the
/// gateway's name, then its own id); `None` for other transports.
pub fn gateway_of(transport: crate::domain::Transport, gateway_message_id: Option<&str>) -> Option<String> {
    match transport {
        crate::domain::Transport::Sms => Some(gateway_message_id?.split_once(':')?.0.to_string()),
        _ => None,
    }
}
