//! Pure types and rules: ids, addresses, roles, channels, subscriptions, consent events, the clock. No I/O.

pub mod address;
pub mod answer;
pub mod audit;
pub mod channel;
pub mod clock;
pub mod draft;
pub mod event;
pub mod health;
pub mod hook;
pub mod ids;
pub mod keywords;
pub mod ledger;
pub mod markdown;
pub mod message;
pub mod quiet;
pub mod quota;
pub mod reason;
pub mod role;
pub mod segments;
pub mod state;
pub mod zone;

pub use address::{Address, E164, MatrixUserId, Transport};
pub use channel::{Channel, ChannelDraft, ChannelKind, Frequency, FrequencyPeriod, OptInMode, Texts};
pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{BroadcastId, ChannelId, DraftId, SubscriberId, ThreadId};
pub use ledger::{ConsentEvent, ConsentKind};
pub use role::Role;
pub use state::{BroadcastState, DeliveryState, DraftState, SubscriptionState, ThreadState};

pub use message::{Message, Problem};
pub use reason::Reason;

/// A rule of the domain was broken by input from outside; the problem is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub Problem);

impl Invalid {
    pub fn new(code: &'static str) -> Self {
        Self(Problem::new(code))
    }
}

impl From<Problem> for Invalid {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}
