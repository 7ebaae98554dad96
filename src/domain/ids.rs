//! Ids: pseudonymous subscriber ids (time-ordered with random low bits, never derived from an
//! address, stable across restores), and the row ids of channels, broadcasts and deliveries, each
//! its own type so that one cannot be passed for another.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use rand::Rng;

/// A subscriber's pseudonymous id, shown as 16 hex digits: the milliseconds since 2020 in the upper
/// 41 bits (enough until 2089) and 22 random bits below.
///
/// Not sequential, so that an id erased after a backup is never handed out again after that backup is
/// restored (a later id has a later time, and the random bits part ids made in the same millisecond);
/// time-ordered, so that a new subscriber's rows go to the end of every index keyed by subscriber
/// (random ids put each opt-in on a different page of each such index: 47.6 kB written to disk per
/// opt-in in the inbound bench, against 25.5 kB with these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub i64);

/// 2020-01-01T00:00:00Z in Unix milliseconds.
const EPOCH_MS: i64 = 1_577_836_800_000;
const RANDOM_BITS: u32 = 22;

/// The last id this process handed out: ids are increasing within a run even when the clock is not.
static LAST: AtomicI64 = AtomicI64::new(0);

impl SubscriberId {
    /// A new id, greater than every id this process handed out before.
    pub fn fresh() -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let ms = (now_ms - EPOCH_MS).clamp(0, (1 << (63 - RANDOM_BITS)) - 1);
        let fresh = (ms << RANDOM_BITS) | rand::thread_rng().gen_range(1..1i64 << RANDOM_BITS);
        let next = |prev: i64| fresh.max(prev.saturating_add(1));
        let prev = LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| Some(next(p))).unwrap_or_default();
        Self(next(prev))
    }
}

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for SubscriberId {
    type Err = super::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(super::Invalid::new("subscriber-id-form"));
        }
        i64::from_str_radix(s, 16)
            .ok()
            .filter(|v| *v > 0)
            .map(Self)
            .ok_or_else(|| super::Invalid::new("subscriber-id-form"))
    }
}

/// A row id of its own type: shown and parsed as the plain number, serialised as one.
macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

row_id! {
    /// A channel.
    ChannelId;
    /// A broadcast or newsletter.
    BroadcastId;
    /// A broadcast being written or waiting for approval.
    DraftId;
    /// A conversation with one subscriber on one transport.
    ThreadId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips() {
        for _ in 0..100 {
            let id = SubscriberId::fresh();
            assert_eq!(id.to_string().parse::<SubscriberId>().unwrap(), id);
        }
        assert!("xyz".parse::<SubscriberId>().is_err());
        assert!("0000000000000000".parse::<SubscriberId>().is_err());
    }

    #[test]
    fn ids_increase_and_differ_within_a_millisecond() {
        let ids: Vec<_> = (0..10_000).map(|_| SubscriberId::fresh()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "each id is greater than the one before");
        let after_2020 = (SubscriberId::fresh().0 >> RANDOM_BITS) + EPOCH_MS;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        assert!((now - after_2020).abs() < 5_000, "the upper bits are the time");
    }
}
