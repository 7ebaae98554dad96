//! What became of one leased send (a delivery or an announcement-room post), as the outbox and the
//! room posts record it.

use crate::domain::Reason;

/// What happened to one leased send.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent {
        gateway_id: String,
        /// What it took of its gateway's quotas (stored in the same transaction).
        usage: Option<crate::domain::quota::Usage>,
    },
    /// Try again at `at` (transient error).
    Retry {
        at: i64,
        error: Reason,
    },
    Failed {
        error: Reason,
    },
    /// Not attempted (broadcast paused or cancelled meanwhile): back to the queue, attempt not counted.
    Release,
    /// Refused for now by a rate limit: queued again for `at`. Not a failure; counts as one attempt at
    /// most however often it happens, so that pacing never makes a delivery give up.
    Deferred {
        at: i64,
        error: Reason,
    },
    /// Not sent and never will be (deadline passed, subscriber gone).
    Cancel {
        reason: Reason,
    },
}
