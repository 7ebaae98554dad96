//! Pseudonymous subscriber ids: random, never derived from an address, stable across restores.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// A subscriber's pseudonymous id: 63 random bits, shown as 16 hex digits.
/// Random (not sequential) so that an id erased after a backup is never handed out again
/// after that backup is restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub i64);

impl SubscriberId {
    pub fn random() -> Self {
        Self(rand::thread_rng().gen_range(1..i64::MAX))
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
            return Err(super::Invalid::new("a subscriber id has 16 hex digits"));
        }
        i64::from_str_radix(s, 16)
            .ok()
            .filter(|v| *v > 0)
            .map(Self)
            .ok_or_else(|| super::Invalid::new("a subscriber id has 16 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips() {
        for _ in 0..100 {
            let id = SubscriberId::random();
            assert_eq!(id.to_string().parse::<SubscriberId>().unwrap(), id);
        }
        assert!("xyz".parse::<SubscriberId>().is_err());
        assert!("0000000000000000".parse::<SubscriberId>().is_err());
    }
}
