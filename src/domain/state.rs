//! The states a broadcast, a delivery and a subscription go through, as stored (lower-case words in
//! the database's CHECK constraints) and as the code compares them.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::Invalid;

/// Where a broadcast is: waiting for its time, going out, held, stopped by an editor, or finished.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum BroadcastState {
    Scheduled,
    Sending,
    Paused,
    Cancelled,
    Done,
}

impl BroadcastState {
    /// Nothing more will be sent: done or cancelled.
    pub fn is_over(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled)
    }
    /// An editor may pause it: it is scheduled or going out.
    pub fn can_pause(self) -> bool {
        matches!(self, Self::Scheduled | Self::Sending)
    }
}

/// Where one delivery (one message to one subscriber over one transport) is.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its turn (or for a retry).
    Queued,
    /// Leased by a lane: being sent.
    Sending,
    /// The gateway or homeserver took it.
    Sent,
    /// The gateway reported it delivered.
    Delivered,
    Failed,
    Cancelled,
}

/// Where a subscription (one subscriber, one channel) is.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SubscriptionState {
    /// Asked to confirm (double opt-in), not yet confirmed.
    Pending,
    Active,
    Unsubscribed,
    /// Never confirmed in time.
    Expired,
}

/// Where a draft is: being written, waiting for an owner's approval, or sent back with a comment.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum DraftState {
    Draft,
    Submitted,
    Returned,
}

/// Where a conversation is: the team should answer it, or it is done.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ThreadState {
    Open,
    Done,
}

/// `as_str` and `parse` for the state enums, as the other stored words of the domain have them.
macro_rules! stored_word {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl $t {
            /// Every state, in the order of the declaration.
            pub const ALL: &'static [Self] = <Self as VariantArray>::VARIANTS;

            pub fn as_str(self) -> &'static str {
                self.into()
            }
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                s.parse().map_err(|_| Invalid::new("state-unknown"))
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

stored_word!(
    BroadcastState => "broadcast state",
    DeliveryState => "delivery state",
    SubscriptionState => "subscription state",
    DraftState => "draft state",
    ThreadState => "thread state",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_reads_back_what_it_writes() {
        for s in BroadcastState::ALL {
            assert_eq!(BroadcastState::parse(s.as_str()), Ok(*s));
        }
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Ok(*s));
        }
        for s in SubscriptionState::ALL {
            assert_eq!(SubscriptionState::parse(s.as_str()), Ok(*s));
        }
        assert_eq!(BroadcastState::Done.as_str(), "done");
        assert_eq!(SubscriptionState::Unsubscribed.as_str(), "unsubscribed");
        assert!(DeliveryState::parse("lost").is_err());
    }
}
