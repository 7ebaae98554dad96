//! The built-in sandbox: messages "sent" to a sandbox phone are shown on its screen in the admin UI
//! (the screen reads them from the outbox), so herold can be tried with no gateway at all.

use crate::domain::Reason;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::pacing::Bucket;
use super::{OutboundMessage, Receipt, SendError, Slot, Transport};
use crate::domain::Address;

pub struct Sandbox {
    /// Its pace (`None`: unlimited).
    bucket: Option<Bucket>,
    /// When set, every delivery id is appended here as the phone "receives" it (load and crash tests).
    log: Option<Mutex<std::fs::File>>,
}

impl Sandbox {
    /// `per_second` of 0 means unlimited.
    pub fn new(per_second: u32) -> Self {
        Self { bucket: (per_second > 0).then(|| Bucket::new(f64::from(per_second))), log: None }
    }

    /// Also appends each received delivery id to `path`.
    pub fn with_log(mut self, path: &Path) -> std::io::Result<Self> {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        self.log = Some(Mutex::new(f));
        Ok(self)
    }
}

impl Transport for Sandbox {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            match &msg.to {
                Address::Phone(crate::domain::Transport::Sandbox, _) => {
                    if let Some(log) = &self.log {
                        let mut f = log.lock().expect("sandbox log lock");
                        // One write per line: `writeln!` may write the number and the newline apart,
                        // and a kill -9 between them ran two lines together (a crash test saw it).
                        f.write_all(format!("{}\n", msg.delivery_id).as_bytes()).map_err(|e| SendError::Transient {
                            reason: {
                                tracing::warn!(error = %e, "the sandbox log cannot be written");
                                Reason::SandboxFailed
                            },
                            retry_after: None,
                        })?;
                    }
                    Ok(Receipt::new(format!("sandbox-{}", msg.delivery_id)))
                }
                _ => Err(SendError::Permanent(Reason::BadAddress)),
            }
        })
    }

    fn segments_per_second(&self) -> Option<f64> {
        self.bucket.as_ref().map(Bucket::rate)
    }

    fn reserve(&self, msg: &OutboundMessage) -> Result<Slot, crate::transport::Hold> {
        self.bucket.as_ref().map_or(Ok(Slot::default()), |b| b.reserve(msg.pace_units()))
    }
}
