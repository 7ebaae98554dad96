//! The audit log's entries: every admin action, hash-chained like the consent ledger. Targets and
//! details name ids and names only, never an address or a message text.

use serde::Serialize;

use super::ledger::{Linked, hash_fields};

/// What an admin (or the CLI, or herold itself) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Login,
    LoginFailed,
    PasswordChanged,
    AdminAdded,
    AdminRemoved,
    TokenCreated,
    TokenRemoved,
    ChannelCreated,
    ChannelUpdated,
    SubscriberAdded,
    BroadcastSent,
    BroadcastScheduled,
    BroadcastPaused,
    BroadcastResumed,
    BroadcastCancelled,
    FrequencyOverride,
    Export,
    Erasure,
    RetentionSweep,
    Backup,
    Restore,
    KeyRotated,
    RecoveryKeyStored,
    MatrixRecovered,
    InboxReplied,
    GatewayTested,
    WebhookCreated,
    WebhookRemoved,
    WebhookEnabled,
    /// herold switched a webhook off after a day of failed attempts.
    WebhookDisabled,
    SubscriberLanguageChanged,
    DraftSaved,
    DraftSubmitted,
    DraftApproved,
    DraftReturned,
    DraftDeleted,
    BroadcastUnscheduled,
    BroadcastTested,
    ThreadAssigned,
    ThreadClosed,
    ThreadReopened,
    KeywordAnswerAdded,
    KeywordAnswerRemoved,
    TeamRoomCreated,
    TeamRoomDropped,
}

impl Action {
    pub const ALL: [Action; 45] = [
        Self::Login,
        Self::LoginFailed,
        Self::PasswordChanged,
        Self::AdminAdded,
        Self::AdminRemoved,
        Self::TokenCreated,
        Self::TokenRemoved,
        Self::ChannelCreated,
        Self::ChannelUpdated,
        Self::SubscriberAdded,
        Self::BroadcastSent,
        Self::BroadcastScheduled,
        Self::BroadcastPaused,
        Self::BroadcastResumed,
        Self::BroadcastCancelled,
        Self::FrequencyOverride,
        Self::Export,
        Self::Erasure,
        Self::RetentionSweep,
        Self::Backup,
        Self::Restore,
        Self::KeyRotated,
        Self::RecoveryKeyStored,
        Self::MatrixRecovered,
        Self::InboxReplied,
        Self::GatewayTested,
        Self::WebhookCreated,
        Self::WebhookRemoved,
        Self::WebhookEnabled,
        Self::WebhookDisabled,
        Self::SubscriberLanguageChanged,
        Self::DraftSaved,
        Self::DraftSubmitted,
        Self::DraftApproved,
        Self::DraftReturned,
        Self::DraftDeleted,
        Self::BroadcastUnscheduled,
        Self::BroadcastTested,
        Self::ThreadAssigned,
        Self::ThreadClosed,
        Self::ThreadReopened,
        Self::KeywordAnswerAdded,
        Self::KeywordAnswerRemoved,
        Self::TeamRoomCreated,
        Self::TeamRoomDropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::PasswordChanged => "password_changed",
            Self::AdminAdded => "admin_added",
            Self::AdminRemoved => "admin_removed",
            Self::TokenCreated => "token_created",
            Self::TokenRemoved => "token_removed",
            Self::ChannelCreated => "channel_created",
            Self::ChannelUpdated => "channel_updated",
            Self::SubscriberAdded => "subscriber_added",
            Self::BroadcastSent => "broadcast_sent",
            Self::BroadcastScheduled => "broadcast_scheduled",
            Self::BroadcastPaused => "broadcast_paused",
            Self::BroadcastResumed => "broadcast_resumed",
            Self::BroadcastCancelled => "broadcast_cancelled",
            Self::FrequencyOverride => "frequency_override",
            Self::Export => "export",
            Self::Erasure => "erasure",
            Self::RetentionSweep => "retention_sweep",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::KeyRotated => "key_rotated",
            Self::RecoveryKeyStored => "recovery_key_stored",
            Self::MatrixRecovered => "matrix_recovered",
            Self::InboxReplied => "inbox_replied",
            Self::GatewayTested => "gateway_tested",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookRemoved => "webhook_removed",
            Self::WebhookEnabled => "webhook_enabled",
            Self::WebhookDisabled => "webhook_disabled",
            Self::SubscriberLanguageChanged => "subscriber_language_changed",
            Self::DraftSaved => "draft_saved",
            Self::DraftSubmitted => "draft_submitted",
            Self::DraftApproved => "draft_approved",
            Self::DraftReturned => "draft_returned",
            Self::DraftDeleted => "draft_deleted",
            Self::BroadcastUnscheduled => "broadcast_unscheduled",
            Self::BroadcastTested => "broadcast_tested",
            Self::ThreadAssigned => "thread_assigned",
            Self::ThreadClosed => "thread_closed",
            Self::ThreadReopened => "thread_reopened",
            Self::KeywordAnswerAdded => "keyword_answer_added",
            Self::KeywordAnswerRemoved => "keyword_answer_removed",
            Self::TeamRoomCreated => "team_room_created",
            Self::TeamRoomDropped => "team_room_dropped",
        }
    }

    /// Unknown names stay readable (a newer herold may have written them); the hash covers the text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    /// `admin:<id>`, `token:<id>`, `cli`, `system`, or for a failed login `unknown`.
    pub actor: String,
    /// The admin's or token's name at the time (names of people who run herold, not of subscribers).
    pub actor_name: String,
    pub action: String,
    /// What it was done to: a channel, broadcast or subscriber id, an admin or token name.
    pub target: String,
    /// A short note without addresses or message texts (counts, a reason).
    pub detail: String,
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    #[serde(skip)]
    pub hash: Vec<u8>,
}

impl AuditEvent {
    pub fn compute_hash(&self) -> [u8; 32] {
        hash_fields(
            b"herold-audit-v1",
            &[
                &self.id.to_be_bytes(),
                &self.at.to_be_bytes(),
                self.actor.as_bytes(),
                self.actor_name.as_bytes(),
                self.action.as_bytes(),
                self.target.as_bytes(),
                self.detail.as_bytes(),
                &self.prev_hash,
            ],
        )
    }
}

impl Linked for AuditEvent {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{ChainError, GENESIS, verify_chain};

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|id| {
                let mut e = AuditEvent {
                    id,
                    at: 100 + id,
                    actor: "admin:1".into(),
                    actor_name: "anna".into(),
                    action: Action::Export.as_str().into(),
                    target: format!("subscriber {id}"),
                    detail: String::new(),
                    prev_hash: prev.clone(),
                    hash: vec![],
                };
                e.hash = e.compute_hash().to_vec();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_edited_entry_breaks_the_chain() {
        let c = chain(4);
        let head = c.last().map(|e| (e.id, e.hash.clone()));
        assert_eq!(verify_chain(c.clone(), head.clone()), Ok(4));
        let mut edited = c.clone();
        edited[1].detail = "nothing happened".into();
        assert_eq!(verify_chain(edited, head.clone()), Err(ChainError::Mismatch { id: 2 }));
        let mut short = c;
        short.pop();
        assert_eq!(verify_chain(short, head), Err(ChainError::Truncated));
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
