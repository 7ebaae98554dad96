//! Events herold tells other systems about through their webhooks: what happened, to which
//! pseudonymous id, never an address or a text.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::{BroadcastId, BroadcastState, ChannelId, ConsentKind, Reason, SubscriberId, Transport};

/// The kinds of event an endpoint can ask for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    VariantArray,
    utoipa::ToSchema,
)]
pub enum EventKind {
    /// A person asked to join a double opt-in channel and was sent the confirmation request.
    #[strum(serialize = "subscriber.joined")]
    #[serde(rename = "subscriber.joined")]
    SubscriberJoined,
    /// A person is subscribed: confirmed, opted in on a single opt-in channel, or imported.
    #[strum(serialize = "subscriber.confirmed")]
    #[serde(rename = "subscriber.confirmed")]
    SubscriberConfirmed,
    /// A person left a channel, or never confirmed in time.
    #[strum(serialize = "subscriber.left")]
    #[serde(rename = "subscriber.left")]
    SubscriberLeft,
    /// A person's data was erased (their id stays, so that another system can forget it too).
    #[strum(serialize = "subscriber.erased")]
    #[serde(rename = "subscriber.erased")]
    SubscriberErased,
    /// A broadcast is over: everything sent, or cancelled.
    #[strum(serialize = "broadcast.finished")]
    #[serde(rename = "broadcast.finished")]
    BroadcastFinished,
    /// A broadcast was paused, by hand or because most of its attempts failed.
    #[strum(serialize = "broadcast.paused")]
    #[serde(rename = "broadcast.paused")]
    BroadcastPaused,
    /// A message that is not a command arrived; its text is fetched through the API.
    #[strum(serialize = "inbox.message")]
    #[serde(rename = "inbox.message")]
    InboxMessage,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Result<Self, strum::ParseError> {
        s.parse()
    }

    /// The key of its name in `locales/*/ui.ftl` (Fluent keys cannot hold the dot).
    pub fn text_key(self) -> &'static str {
        match self {
            Self::SubscriberJoined => "event-subscriber-joined",
            Self::SubscriberConfirmed => "event-subscriber-confirmed",
            Self::SubscriberLeft => "event-subscriber-left",
            Self::SubscriberErased => "event-subscriber-erased",
            Self::BroadcastFinished => "event-broadcast-finished",
            Self::BroadcastPaused => "event-broadcast-paused",
            Self::InboxMessage => "event-inbox-message",
        }
    }

    /// This kind's bit in an endpoint's stored set of kinds.
    pub fn bit(self) -> i64 {
        1 << Self::VARIANTS.iter().position(|k| *k == self).expect("every kind is a variant")
    }

    /// The stored set of `kinds`.
    pub fn mask(kinds: &[EventKind]) -> i64 {
        kinds.iter().fold(0, |m, k| m | k.bit())
    }

    /// The kinds in a stored set.
    pub fn in_mask(mask: i64) -> Vec<EventKind> {
        Self::VARIANTS.iter().copied().filter(|k| mask & k.bit() != 0).collect()
    }

    /// What a consent event means to another system, if anything.
    pub fn of_consent(kind: ConsentKind) -> Option<EventKind> {
        match kind {
            ConsentKind::OptInRequested => Some(Self::SubscriberJoined),
            ConsentKind::OptInConfirmed | ConsentKind::Import => Some(Self::SubscriberConfirmed),
            ConsentKind::OptOut | ConsentKind::OptInExpired => Some(Self::SubscriberLeft),
            ConsentKind::Erased => Some(Self::SubscriberErased),
            ConsentKind::AdminChange => None,
        }
    }
}

/// What an event says, by kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Subscriber {
        #[serde(serialize_with = "as_text")]
        subscriber: SubscriberId,
        channel: Option<ChannelId>,
        transport: Option<Transport>,
        /// The consent event behind it (`optin_confirmed`, `import`, `optout`, `optin_expired`, …),
        /// as the ledger stores it.
        #[serde(serialize_with = "consent_word")]
        cause: ConsentKind,
    },
    Broadcast {
        broadcast: BroadcastId,
        state: BroadcastState,
        total: i64,
        sent: i64,
        failed: i64,
        cancelled: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    Inbox {
        message: i64,
        #[serde(serialize_with = "as_text")]
        subscriber: SubscriberId,
        transport: Transport,
    },
}

fn consent_word<S: serde::Serializer>(kind: &ConsentKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

fn as_text<S: serde::Serializer>(id: &SubscriberId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// One event, as sent: the Standard Webhooks payload shape (`type`, `timestamp`, `data`).
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub at: i64,
    pub data: EventData,
}

impl Event {
    /// The JSON body every endpoint gets.
    pub fn payload(&self) -> String {
        serde_json::json!({
            "type": self.kind,
            "timestamp": super::clock::rfc3339(self.at),
            "data": self.data,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_bits_and_names() {
        let all = EventKind::VARIANTS;
        assert_eq!(EventKind::in_mask(EventKind::mask(all)), all.to_vec());
        assert_eq!(EventKind::in_mask(EventKind::InboxMessage.bit()), vec![EventKind::InboxMessage]);
        for k in all {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), *k);
        }
    }

    #[test]
    fn a_subscriber_event_names_the_id_and_never_an_address() {
        let e = Event {
            kind: EventKind::SubscriberConfirmed,
            at: 1_780_000_000,
            data: EventData::Subscriber {
                subscriber: SubscriberId(0x1234),
                channel: Some(ChannelId(3)),
                transport: Some(Transport::Sms),
                cause: ConsentKind::OptInConfirmed,
            },
        };
        let v: serde_json::Value = serde_json::from_str(&e.payload()).unwrap();
        assert_eq!(v["type"], "subscriber.confirmed");
        assert_eq!(v["data"]["subscriber"], "0000000000001234");
        assert_eq!(v["data"]["channel"], 3);
        assert_eq!(v["data"]["transport"], "sms");
        assert_eq!(v["data"]["cause"], "optin_confirmed");
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
