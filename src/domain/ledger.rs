//! The consent ledger's events and their hash chain: each event's hash covers its fields and the previous hash.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Invalid, Problem, Transport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// An opt-in message arrived on a double opt-in channel; waiting for YES.
    OptInRequested,
    /// The subscriber confirmed (double opt-in) or opted in (single opt-in).
    OptInConfirmed,
    /// A pending opt-in was never confirmed.
    OptInExpired,
    OptOut,
    /// An admin or API client added the subscriber with consent collected elsewhere.
    Import,
    /// An admin changed a subscription by hand.
    AdminChange,
    /// The subscriber's data key was destroyed.
    Erased,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 7] = [
        Self::OptInRequested,
        Self::OptInConfirmed,
        Self::OptInExpired,
        Self::OptOut,
        Self::Import,
        Self::AdminChange,
        Self::Erased,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptInRequested => "optin_requested",
            Self::OptInConfirmed => "optin_confirmed",
            Self::OptInExpired => "optin_expired",
            Self::OptOut => "optout",
            Self::Import => "import",
            Self::AdminChange => "admin_change",
            Self::Erased => "erased",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Problem::new("consent-kind-unknown").with("kind", s).into())
    }
}

/// One ledger event. `inbound_sealed` is the exact inbound text, sealed with the subscriber's data key
/// (unreadable after erasure; the hash still covers the sealed bytes). `wording_sha256` comes from the
/// channel's stored wording and `prev_hash` from the event before; neither is stored in the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub id: i64,
    pub at: i64,
    pub subscriber: i64,
    pub channel: Option<super::ChannelId>,
    pub transport: Option<Transport>,
    pub kind: ConsentKind,
    pub gateway_message_id: Option<String>,
    pub inbound_sealed: Option<Vec<u8>>,
    pub wording_version: Option<i64>,
    pub wording_sha256: Option<Vec<u8>>,
    pub actor: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The hash before the first event.
pub const GENESIS: [u8; 32] = [0; 32];

impl ConsentEvent {
    /// SHA-256 over every field (length-prefixed, so no two field lists share an encoding) and the previous hash.
    pub fn compute_hash(&self) -> [u8; 32] {
        hash_fields(
            b"herold-consent-v1",
            &[
                &self.id.to_be_bytes(),
                &self.at.to_be_bytes(),
                &self.subscriber.to_be_bytes(),
                &opt_i64(self.channel.map(|c| c.0)),
                self.transport.map_or("", Transport::as_str).as_bytes(),
                self.kind.as_str().as_bytes(),
                self.gateway_message_id.as_deref().unwrap_or("").as_bytes(),
                self.inbound_sealed.as_deref().unwrap_or(&[]),
                &opt_i64(self.wording_version),
                self.wording_sha256.as_deref().unwrap_or(&[]),
                self.actor.as_bytes(),
                &self.prev_hash,
            ],
        )
    }
}

impl Linked for ConsentEvent {
    fn id(&self) -> i64 {
        self.id
    }
    fn hash(&self) -> &[u8] {
        &self.hash
    }
    fn link(&mut self, prev: Vec<u8>) -> [u8; 32] {
        self.prev_hash = prev;
        self.compute_hash()
    }
}

/// SHA-256 over a domain tag and fields, each length-prefixed so that no two field lists share an encoding.
pub fn hash_fields(tag: &[u8], fields: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f);
    }
    h.finalize().into()
}

/// An entry of a hash chain (the consent ledger, the audit log).
pub trait Linked {
    fn id(&self) -> i64;
    /// The stored hash.
    fn hash(&self) -> &[u8];
    /// Sets the previous entry's hash and returns the hash this entry should have.
    fn link(&mut self, prev: Vec<u8>) -> [u8; 32];
}

fn opt_i64(v: Option<i64>) -> Vec<u8> {
    v.map(|v| v.to_be_bytes().to_vec()).unwrap_or_default()
}

/// Where a chain check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error(
        "event {id}: its hash does not match (it, its wording, or an event before it was edited, deleted, inserted or reordered)"
    )]
    Mismatch { id: i64 },
    #[error("the newest event is not the recorded head (events at the end were deleted)")]
    Truncated,
    #[error("wording version {version} of channel {channel} does not match its SHA-256 (edited)")]
    Wording { channel: super::ChannelId, version: i64 },
}

/// Walks events in id order, linking each to the previous hash, and checks every hash and the head.
pub fn verify_chain<E, I>(events: I, head: Option<(i64, Vec<u8>)>) -> Result<u64, ChainError>
where
    E: Linked,
    I: IntoIterator<Item = E>,
{
    let mut prev = GENESIS.to_vec();
    let mut last = None;
    let mut n = 0;
    for mut ev in events {
        if ev.link(prev).as_slice() != ev.hash() {
            return Err(ChainError::Mismatch { id: ev.id() });
        }
        prev = ev.hash().to_vec();
        last = Some((ev.id(), prev.clone()));
        n += 1;
    }
    if last != head {
        return Err(ChainError::Truncated);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ConsentEvent> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|id| {
                let mut e = ConsentEvent {
                    id,
                    at: 1000 + id,
                    subscriber: 7,
                    channel: Some(crate::domain::ChannelId(1)),
                    transport: Some(Transport::Sms),
                    kind: ConsentKind::OptInConfirmed,
                    gateway_message_id: None,
                    inbound_sealed: Some(vec![1, 2, 3]),
                    wording_version: Some(1),
                    wording_sha256: Some(vec![9; 32]),
                    actor: "subscriber".into(),
                    prev_hash: prev.clone(),
                    hash: vec![],
                };
                e.hash = e.compute_hash().to_vec();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(c: &[ConsentEvent]) -> Option<(i64, Vec<u8>)> {
        c.last().map(|e| (e.id, e.hash.clone()))
    }

    #[test]
    fn a_clean_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(c.clone(), head(&c)), Ok(5));
        assert_eq!(verify_chain(Vec::<ConsentEvent>::new(), None), Ok(0));
    }

    #[test]
    fn tampering_is_found() {
        let c = chain(5);
        let h = head(&c);
        let mut edited = c.clone();
        edited[2].actor = "admin".into();
        assert_eq!(verify_chain(edited, h.clone()), Err(ChainError::Mismatch { id: 3 }));
        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(verify_chain(deleted, h.clone()), Err(ChainError::Mismatch { id: 3 }));
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert_eq!(verify_chain(swapped, h.clone()), Err(ChainError::Mismatch { id: 3 }));
        let mut wording = c.clone();
        wording[0].wording_sha256 = Some(vec![8; 32]);
        assert_eq!(verify_chain(wording, h.clone()), Err(ChainError::Mismatch { id: 1 }));
        let mut truncated = c.clone();
        truncated.pop();
        assert_eq!(verify_chain(truncated, h), Err(ChainError::Truncated));
    }
}
