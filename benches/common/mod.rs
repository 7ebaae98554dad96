//! What the benches share: a single opt-in channel on one transport and a broadcast to send now.
#![allow(dead_code)]

use herold::domain::{ChannelDraft, ChannelKind, OptInMode, Transport};
use herold::service::broadcasts::Compose;

pub fn draft(keyword: &str, transport: Transport) -> ChannelDraft {
    ChannelDraft {
        name: keyword.into(),
        keyword: keyword.into(),
        description: String::new(),
        kind: ChannelKind::Broadcast,
        opt_in: OptInMode::Single,
        texts: Default::default(),
        transports: vec![transport],
        frequency: None,
        public_archive: false,
    }
}

pub fn compose(channel: i64, key: &str, body: &str) -> Compose {
    Compose {
        kind: ChannelKind::Broadcast,
        title: String::new(),
        body: body.into(),
        channels: vec![channel],
        send_at: None,
        deadline: None,
        override_frequency: false,
        idempotency_key: key.into(),
    }
}
