//! Gateway quotas: SMS parts a day and distinct recipients a calendar month per gateway (a phone on an
//! ordinary contract has both), days and months in the installation's zone. Broadcasts leave a
//! reserve of each day for replies; replies are never held by the monthly recipients (they answer
//! someone who wrote), but count. Kept in memory while herold runs; what was sent is stored with
//! each delivery's outcome and loaded again at start.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::Reason;
use super::clock::Clock;
use super::zone::Zone;

/// A gateway's quotas as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub parts_per_day: Option<u32>,
    pub recipients_per_month: Option<u32>,
    /// Percent of the day's parts that only replies may use.
    pub reply_reserve_percent: u32,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.parts_per_day.is_some() || self.recipients_per_month.is_some()
    }

    /// The parts a day broadcasts may use (the day less the replies' reserve).
    pub fn broadcast_parts(&self) -> Option<u32> {
        self.parts_per_day.map(|d| d - d * self.reply_reserve_percent.min(100) / 100)
    }
}

/// What one send took of a gateway's quotas (stored with its outcome, or given back if it failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub gateway: String,
    /// The local day (`20261224`) and month (`202612`) it counts in.
    pub day: i64,
    pub month: i64,
    pub parts: u32,
    /// The subscriber it went to, and whether they were new for the gateway this month.
    pub recipient: i64,
    pub new_recipient: bool,
}

/// Why a send must wait: until when, and the reason the broadcast page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub until: i64,
    pub reason: Reason,
}

/// What is left of a gateway's quotas now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub limits: Limits,
    /// Parts used today (replies included), and what broadcasts may still use today.
    pub parts_used: u32,
    pub broadcast_parts_left: Option<u32>,
    /// Distinct recipients this month, and how many more may be reached.
    pub recipients: u32,
    pub recipients_left: Option<u32>,
    /// When today's and this month's quotas start again.
    pub next_day: i64,
    pub next_month: i64,
}

#[derive(Debug)]
struct Count {
    limits: Limits,
    day: i64,
    parts: u32,
    month: i64,
    recipients: HashSet<i64>,
}

impl Count {
    /// Starts a new day or month when `now`'s has begun.
    fn roll(&mut self, day: i64, month: i64) {
        if self.day != day {
            (self.day, self.parts) = (day, 0);
        }
        if self.month != month {
            self.month = month;
            self.recipients.clear();
        }
    }
}

/// Every gateway's quotas and use, shared by the SMS router and the use cases.
pub struct QuotaBook {
    clock: Arc<dyn Clock>,
    zone: Zone,
    counts: Mutex<HashMap<String, Count>>,
}

impl std::fmt::Debug for QuotaBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuotaBook")
    }
}

impl QuotaBook {
    /// `limits`: each gateway with quotas (gateways without are not listed and never held).
    pub fn new(clock: Arc<dyn Clock>, zone: Zone, limits: Vec<(String, Limits)>) -> Self {
        let counts = limits
            .into_iter()
            .filter(|(_, l)| l.any())
            .map(|(name, limits)| (name, Count { limits, day: 0, parts: 0, month: 0, recipients: HashSet::new() }))
            .collect();
        Self { clock, zone, counts: Mutex::new(counts) }
    }

    /// The periods `now` falls in: (day, next day, month, next month).
    fn periods(&self) -> (i64, i64, i64, i64) {
        let now = self.clock.now();
        let (day, next_day) = self.zone.day_period(now);
        let (month, next_month) = self.zone.month_period(now);
        (day, next_day, month, next_month)
    }

    /// The local day and month now (for loading what was sent).
    pub fn today(&self) -> (i64, i64) {
        let (day, _, month, _) = self.periods();
        (day, month)
    }

    /// What was sent through `gateway` today and this month, read at start.
    pub fn load(&self, gateway: &str, parts_today: u32, recipients: Vec<i64>) {
        let (day, _, month, _) = self.periods();
        if let Some(c) = self.counts.lock().expect("quota lock").get_mut(gateway) {
            (c.day, c.parts, c.month) = (day, parts_today, month);
            c.recipients = recipients.into_iter().collect();
        }
    }

    /// The gateways with quotas, by name.
    pub fn gateways(&self) -> Vec<String> {
        let mut names: Vec<String> = self.counts.lock().expect("quota lock").keys().cloned().collect();
        names.sort();
        names
    }

    /// Whether `gateway` has quotas at all.
    pub fn limited(&self, gateway: &str) -> bool {
        self.counts.lock().expect("quota lock").contains_key(gateway)
    }

    /// Takes `parts` to `recipient` from `gateway`'s quotas, or says until when it must wait.
    /// `Ok(None)`: the gateway has no quotas.
    pub fn take(&self, gateway: &str, parts: u32, recipient: i64, reply: bool) -> Result<Option<Usage>, Held> {
        let (day, next_day, month, next_month) = self.periods();
        let mut counts = self.counts.lock().expect("quota lock");
        let Some(c) = counts.get_mut(gateway) else { return Ok(None) };
        c.roll(day, month);
        let allowed = if reply { c.limits.parts_per_day } else { c.limits.broadcast_parts() };
        if allowed.is_some_and(|a| c.parts + parts > a) {
            return Err(Held { until: next_day, reason: Reason::DayQuotaReached { gateway: gateway.into() } });
        }
        let known = c.recipients.contains(&recipient);
        if !reply && !known && c.limits.recipients_per_month.is_some_and(|m| c.recipients.len() >= m as usize) {
            return Err(Held { until: next_month, reason: Reason::MonthQuotaReached { gateway: gateway.into() } });
        }
        c.parts += parts;
        let new_recipient = c.recipients.insert(recipient);
        Ok(Some(Usage { gateway: gateway.into(), day, month, parts, recipient, new_recipient }))
    }

    /// A send that took `usage` did not go out: its parts (and a new recipient) are free again.
    pub fn give_back(&self, usage: &Usage) {
        let mut counts = self.counts.lock().expect("quota lock");
        let Some(c) = counts.get_mut(&usage.gateway) else { return };
        if c.day == usage.day {
            c.parts = c.parts.saturating_sub(usage.parts);
        }
        if c.month == usage.month && usage.new_recipient {
            c.recipients.remove(&usage.recipient);
        }
    }

    /// What is left of `gateway`'s quotas now (`None`: it has none).
    pub fn left(&self, gateway: &str) -> Option<Left> {
        let (day, next_day, month, next_month) = self.periods();
        let mut counts = self.counts.lock().expect("quota lock");
        let c = counts.get_mut(gateway)?;
        c.roll(day, month);
        let recipients = c.recipients.len() as u32;
        Some(Left {
            limits: c.limits,
            parts_used: c.parts,
            broadcast_parts_left: c.limits.broadcast_parts().map(|a| a.saturating_sub(c.parts)),
            recipients,
            recipients_left: c.limits.recipients_per_month.map(|m| m.saturating_sub(recipients)),
            next_day,
            next_month,
        })
    }

    /// The share of today's broadcast parts `gateway` has left (1.0 without a day quota), for
    /// spreading a broadcast over several gateways so that they run out together.
    pub fn share_left(&self, gateway: &str) -> f64 {
        match self.left(gateway) {
            Some(Left { broadcast_parts_left: Some(left), limits, .. }) => {
                f64::from(left) / f64::from(limits.broadcast_parts().unwrap_or(1).max(1))
            }
            _ => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ManualClock;

    fn book(limits: Limits) -> (Arc<ManualClock>, QuotaBook) {
        let zone = Zone::parse("Europe/Berlin").unwrap();
        let clock = Arc::new(ManualClock::new(zone.from_input("2026-12-04T10:00").unwrap()));
        let b = QuotaBook::new(clock.clone(), zone, vec![("phone".into(), limits)]);
        (clock, b)
    }

    #[test]
    fn broadcasts_leave_the_reserve_to_replies_until_the_next_day() {
        let (clock, b) = book(Limits { parts_per_day: Some(10), reply_reserve_percent: 20, ..Limits::default() });
        for i in 0..4 {
            b.take("phone", 2, i, false).unwrap();
        }
        let held = b.take("phone", 1, 9, false).unwrap_err();
        assert_eq!(held.reason, Reason::DayQuotaReached { gateway: "phone".into() });
        let zone = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(held.until, zone.from_input("2026-12-05T00:00").unwrap());
        // Replies use the reserve, and no more.
        b.take("phone", 2, 9, true).unwrap();
        assert!(b.take("phone", 1, 9, true).is_err());
        clock.set(held.until);
        let u = b.take("phone", 2, 9, false).unwrap().unwrap();
        b.give_back(&u);
        assert_eq!(b.left("phone").unwrap().broadcast_parts_left, Some(8));
        assert_eq!(b.take("other", 99, 1, false), Ok(None), "a gateway without quotas is never held");
    }

    #[test]
    fn new_recipients_wait_for_next_month_but_known_ones_and_replies_do_not() {
        let (clock, b) = book(Limits { recipients_per_month: Some(2), ..Limits::default() });
        b.take("phone", 1, 1, false).unwrap();
        b.take("phone", 1, 2, false).unwrap();
        b.take("phone", 1, 1, false).unwrap();
        let held = b.take("phone", 1, 3, false).unwrap_err();
        assert_eq!(held.reason, Reason::MonthQuotaReached { gateway: "phone".into() });
        assert!(b.take("phone", 1, 3, true).is_ok(), "a reply is not held");
        clock.set(held.until);
        assert!(b.take("phone", 1, 4, false).is_ok(), "a new month");
        assert_eq!(b.left("phone").unwrap().recipients, 1);
    }
}
