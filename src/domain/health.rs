//! How a route (an SMS gateway, the Matrix bot) is doing, as its last send or check found it: what
//! the dashboard, the Gateways page and `/metrics` show.

use super::Reason;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Health {
    /// Nothing sent through it and not checked yet.
    #[default]
    Unknown,
    /// It answered at `at` (Unix seconds).
    Up { at: i64 },
    /// It has not answered (or refused herold's credentials) since `since`.
    Down { since: i64, reason: Reason },
}

impl Health {
    /// Takes in what a send or a check found at `now`: `Ok` it answered, `Err` why it is down. A
    /// route that stays down keeps the time it went down.
    pub fn record(&mut self, now: i64, found: Result<(), Reason>) {
        *self = match (found, &*self) {
            (Ok(()), _) => Health::Up { at: now },
            (Err(reason), Health::Down { since, .. }) => Health::Down { since: *since, reason },
            (Err(reason), _) => Health::Down { since: now, reason },
        };
    }

    /// `Some(true)` up, `Some(false)` down, `None` not known yet.
    pub fn up(&self) -> Option<bool> {
        match self {
            Health::Unknown => None,
            Health::Up { .. } => Some(true),
            Health::Down { .. } => Some(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_that_stays_down_keeps_when_it_went_down_and_comes_back_up() {
        let mut h = Health::default();
        assert_eq!(h.up(), None);
        h.record(10, Err(Reason::HomeserverUnreachable));
        h.record(20, Err(Reason::HomeserverFailed));
        assert_eq!(h, Health::Down { since: 10, reason: Reason::HomeserverFailed });
        assert_eq!(h.up(), Some(false));
        h.record(30, Ok(()));
        assert_eq!(h, Health::Up { at: 30 });
    }
}
