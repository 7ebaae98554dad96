//! A token bucket counted in SMS segments, one per transport; a 429/Retry-After holds it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Bucket {
    rate: f64,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    last: Instant,
    held_until: Option<Instant>,
}

impl Bucket {
    /// `rate` segments per second; the burst is one second's worth (at least one message).
    pub fn new(rate: f64) -> Self {
        Self { rate, state: Mutex::new(State { tokens: rate.max(1.0), last: Instant::now(), held_until: None }) }
    }

    /// Waits until `n` segments may go.
    pub async fn take(&self, n: u32) {
        while let Err(wait) = self.try_take(n) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes `n` segments if they may go now; otherwise says how long until they may.
    pub fn try_take(&self, n: u32) -> Result<(), Duration> {
        let mut s = self.state.lock().expect("bucket lock");
        let now = Instant::now();
        if let Some(h) = s.held_until.filter(|h| *h > now) {
            return Err(h - now);
        }
        let burst = self.rate.max(f64::from(n));
        s.tokens = (s.tokens + (now - s.last).as_secs_f64() * self.rate).min(burst);
        s.last = now;
        if s.tokens >= f64::from(n) {
            s.tokens -= f64::from(n);
            return Ok(());
        }
        Err(Duration::from_secs_f64((f64::from(n) - s.tokens) / self.rate))
    }

    /// [`Bucket::try_take`] for a transport with one route.
    pub fn reserve(&self, n: u32) -> Result<super::Slot, super::Hold> {
        self.try_take(n).map(|()| super::Slot::default()).map_err(super::Hold::Pace)
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Stops all sends for `d` (the gateway asked for it).
    pub fn hold(&self, d: Duration) {
        let mut s = self.state.lock().expect("bucket lock");
        s.held_until = Some(Instant::now() + d);
        s.tokens = 0.0;
    }
}
