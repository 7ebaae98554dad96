//! Login limits that an attacker cannot turn against the owner: attempts are limited per address and
//! per (account, address), so guesses from elsewhere never lock the right password out; failures for
//! one account across all addresses only slow its next attempts down (a growing delay, capped).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Failures of one account within this window count towards its delay.
const WINDOW: Duration = Duration::from_secs(3600);
/// The longest an attempt waits because its account has been failing.
const MAX_DELAY: Duration = Duration::from_secs(10);

pub struct LoginLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account_and_ip: DefaultKeyedRateLimiter<(String, IpAddr)>,
    /// Failures per account allowed in the window before attempts slow down.
    free_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimits {
    pub fn new(per_ip_per_minute: u32, per_account_per_hour: u32) -> Arc<Self> {
        let per_ip = NonZeroU32::new(per_ip_per_minute).unwrap_or(NonZeroU32::MIN);
        let per_account = NonZeroU32::new(per_account_per_hour).unwrap_or(NonZeroU32::MIN);
        Arc::new(Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            per_account_and_ip: RateLimiter::keyed(Quota::per_hour(per_account)),
            free_failures: per_account.get() as usize,
            failures: Mutex::new(HashMap::new()),
        })
    }

    /// May `account` try from `ip` now? `Err(wait)`: not for this long (the real wait, to say).
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        self.per_ip.check_key(&ip).map_err(|n| n.wait_time_from(now))?;
        self.per_account_and_ip.check_key(&(account.to_string(), ip)).map_err(|n| n.wait_time_from(now))
    }

    /// How long this attempt waits first: a second more for each failure of the account beyond the
    /// free ones in the last hour, from any address, at most [`MAX_DELAY`].
    pub fn delay(&self, account: &str) -> Duration {
        let mut f = self.failures.lock().expect("login failures lock");
        let Some(list) = f.get_mut(account) else { return Duration::ZERO };
        list.retain(|t| t.elapsed() < WINDOW);
        let over = list.len().saturating_sub(self.free_failures) as u32;
        (Duration::from_secs(1) * over).min(MAX_DELAY)
    }

    pub fn failed(&self, account: &str) {
        let mut f = self.failures.lock().expect("login failures lock");
        // Bounded: an attacker inventing account names fills at most this many entries.
        if f.len() > 10_000 {
            f.retain(|_, l| l.last().is_some_and(|t| t.elapsed() < WINDOW));
        }
        f.entry(account.to_string()).or_default().push(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_other_addresses_do_not_lock_out_a_fresh_one() {
        let l = LoginLimits::new(1000, 20);
        let attacker: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..20 {
            assert!(l.check("anna", attacker).is_ok());
            l.failed("anna");
        }
        let wait = l.check("anna", attacker).unwrap_err();
        assert!(wait > Duration::from_secs(60), "a real wait, not 'a minute': {wait:?}");
        assert!(l.check("anna", [192, 168, 1, 7].into()).is_ok(), "the owner's own address still may");
        l.failed("anna");
        assert_eq!(l.delay("anna"), Duration::from_secs(1), "failures beyond 20 slow the account down");
        assert_eq!(l.delay("otto"), Duration::ZERO);
    }
}
