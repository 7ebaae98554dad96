//! The signals between the use cases and the delivery lanes: "rows were queued for your transport"
//! and "rows you hold may no longer be sent". Watch channels, so a signal is never lost while a
//! lane is busy, and many signals before it looks count as one.

use tokio::sync::watch;

use crate::domain::Transport;

/// The senders, one wake per transport and one revocation for all.
pub struct Signals {
    wake: [watch::Sender<u64>; 3],
    revoke: watch::Sender<u64>,
}

impl Default for Signals {
    fn default() -> Self {
        Self { wake: std::array::from_fn(|_| watch::Sender::new(0)), revoke: watch::Sender::new(0) }
    }
}

fn slot(t: Transport) -> usize {
    match t {
        Transport::Sandbox => 0,
        Transport::Sms => 1,
        Transport::Matrix => 2,
    }
}

impl Signals {
    pub fn wake(&self, t: Transport) {
        self.wake[slot(t)].send_modify(|n| *n += 1);
    }

    pub fn wake_all(&self) {
        for w in &self.wake {
            w.send_modify(|n| *n += 1);
        }
    }

    pub fn revoke(&self) {
        self.revoke.send_modify(|n| *n += 1);
    }

    pub fn subscribe(&self, t: Transport) -> LaneSignals {
        LaneSignals { wake: self.wake[slot(t)].subscribe(), revoke: self.revoke.subscribe() }
    }
}

/// What one lane listens to.
pub struct LaneSignals {
    pub wake: watch::Receiver<u64>,
    pub revoke: watch::Receiver<u64>,
}
