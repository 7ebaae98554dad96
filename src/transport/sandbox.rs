//! The built-in sandbox: messages "sent" to a sandbox phone are shown on its screen in the admin UI
//! (the screen reads them from the outbox), so herold can be tried with no gateway at all.

use futures_util::future::BoxFuture;

use super::{OutboundMessage, Receipt, SendError, Transport};
use crate::domain::Address;

pub struct Sandbox {
    per_second: Option<f64>,
}

impl Sandbox {
    /// `per_second` of 0 means unlimited.
    pub fn new(per_second: u32) -> Self {
        Self { per_second: (per_second > 0).then_some(f64::from(per_second)) }
    }
}

impl Transport for Sandbox {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            match &msg.to {
                Address::Phone(crate::domain::Transport::Sandbox, _) => {
                    Ok(Receipt { gateway_id: format!("sandbox-{}", msg.delivery_id) })
                }
                _ => Err(SendError::Permanent("the sandbox only reaches sandbox phones".into())),
            }
        })
    }

    fn segments_per_second(&self) -> Option<f64> {
        self.per_second
    }
}
