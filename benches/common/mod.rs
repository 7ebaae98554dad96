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

/// One figure for `scripts/bench`: printed by the bench as it likes, and appended as a JSON line to
/// `$HEROLD_BENCH_JSON/results.jsonl` when that is set, with its in-run reference and its target.
pub fn report(name: &str, value: f64, unit: &str, reference: Option<(f64, &str)>, target: &str) {
    let Ok(dir) = std::env::var("HEROLD_BENCH_JSON") else { return };
    let line = serde_json::json!({
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference.map(|r| r.0),
        "reference_is": reference.map(|r| r.1),
        "target": target,
    });
    std::fs::create_dir_all(&dir).unwrap();
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(format!("{dir}/results.jsonl")).unwrap();
    writeln!(f, "{line}").unwrap();
}
