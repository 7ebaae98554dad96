//! Erasure (GDPR Art. 17) and retention: crypto-shredding a subscriber on an admin's, an API client's
//! or the subscriber's own request, the permanent erasure list, and the daily retention sweep.

use serde::Serialize;

use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::{ConsentKind, SubscriberId};
use crate::store::audit::{self, NewAudit};
use crate::store::ledger::{self, NewEvent};
use crate::store::{erased, meta_get, meta_set, privacy, subscribers as subs};

/// How long each kind of data is kept, in days (0: kept until erased by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// A contact that never confirmed (expired opt-in, or only wrote a message), after its last activity.
    pub unconfirmed_days: u32,
    /// A contact that left every channel, after leaving.
    pub left_days: u32,
    /// Inbox messages (texts that were not commands), after they arrived.
    pub inbox_days: u32,
    /// Delivery rows, after their broadcast finished (the broadcast keeps its counts).
    pub deliveries_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { unconfirmed_days: 7, left_days: 30, inbox_days: 90, deliveries_days: 30 }
    }
}

/// Who runs herold and how long backups live, for the privacy notice.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NoticeSettings {
    pub controller: String,
    pub contact: String,
    /// Days scheduled data backups are kept (0: no scheduled backups).
    pub backup_days: u32,
    pub keyring_backup_days: u32,
}

/// Everything a channel's privacy notice states.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub channel: crate::domain::Channel,
    pub settings: NoticeSettings,
    pub retention: Retention,
    pub confirm_hours: i64,
    /// The hours with no broadcasts (none: any hour).
    pub quiet: Option<crate::domain::quiet::QuietHours>,
}

/// What one retention sweep removed (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub erased: usize,
    pub inbox: usize,
    pub deliveries: usize,
}

/// A confirmed erasure by message runs at the latest this long after YES, even if its last reply is stuck.
const ERASE_GIVE_UP_SECONDS: i64 = 3600;
const BATCH: i64 = 1000;

fn cutoff(now: i64, days: u32) -> i64 {
    if days == 0 { i64::MIN } else { now - i64::from(days) * 86_400 }
}

impl Service {
    /// Erases one subscriber on an admin's or API client's request.
    pub async fn erase_subscriber(&self, actor: &Actor, id: SubscriberId) -> Result<()> {
        let exists = self.store().call(move |c| Ok(subs::wrapped_key(c, id.0)?.is_some())).await?;
        if !exists {
            return Err(ServiceError::NotFound);
        }
        let entry = actor.audit(self.now(), Action::Erasure, format!("subscriber {id}"), "");
        self.erase_ids(vec![id.0], actor.to_string(), Some(entry)).await?;
        Ok(())
    }

    /// Destroys subscribers: their ids go on the permanent erasure list first (synced), then one
    /// transaction destroys their keys and rows and appends an `erased` ledger event each (and the
    /// audit entry, if any); then the keyring's WAL is emptied. Returns how many existed.
    pub(crate) async fn erase_ids(&self, ids: Vec<i64>, actor: String, entry: Option<NewAudit>) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let list = self.store().paths().erased.clone();
        let n = self
            .store()
            .call(move |c| {
                erased::record(&list, &ids, now)?;
                let tx = crate::store::write_tx(c)?;
                let mut n = 0;
                for id in &ids {
                    if privacy::erase(&tx, *id, now)? {
                        n += 1;
                        ledger::append(&tx, erased_event(*id, now, &actor))?;
                    }
                }
                if let Some(e) = entry {
                    audit::append(&tx, e)?;
                }
                tx.commit()?;
                if !privacy::flush_keyring(c)? {
                    tracing::warn!("the keyring's log could not be emptied at once; it is at the next checkpoint");
                }
                Ok(n)
            })
            .await?;
        self.revoke_leases();
        tracing::info!(subscribers = n, "erased");
        Ok(n)
    }

    /// Erases every id on the permanent erasure list that is still present (after a restore).
    pub async fn apply_erasure_list(&self) -> Result<usize> {
        let list = self.store().paths().erased.clone();
        let present = self
            .store()
            .call(move |c| {
                let mut present = Vec::new();
                for id in erased::read(&list)? {
                    if privacy::present(c, id)? {
                        present.push(id);
                    }
                }
                Ok(present)
            })
            .await?;
        self.erase_ids(present, "restore".into(), None).await
    }

    /// Runs the erasures subscribers confirmed by message whose last reply has left.
    pub async fn run_confirmed_erasures(&self) -> Result<usize> {
        let give_up = self.now() - ERASE_GIVE_UP_SECONDS;
        let ids = self.store().call(move |c| privacy::confirmed_erasures(c, give_up, BATCH)).await?;
        self.erase_ids(ids, Actor::Subscriber.to_string(), None).await
    }

    /// Removes what the retention rules say is due, in batches; logs and audits counts only.
    pub async fn retention_sweep(&self) -> Result<SweepReport> {
        let (now, r) = (self.now(), self.settings().retention);
        let mut report = SweepReport::default();
        // The gateways' quota counts: days a month old, and months before last, are not needed.
        let zone = &self.settings().zone;
        let (day, month) = (zone.day_period(now - 31 * 86_400).0, zone.month_period(now - 62 * 86_400).0);
        self.store().call(move |c| crate::store::quotas::prune(c, day, month)).await?;
        loop {
            let (unconfirmed, left) = (cutoff(now, r.unconfirmed_days), cutoff(now, r.left_days));
            let (inbox_before, deliveries_before) = (cutoff(now, r.inbox_days), cutoff(now, r.deliveries_days));
            let (ids, inbox, deliveries) = self
                .store()
                .call(move |c| {
                    let tx = crate::store::write_tx(c)?;
                    let inbox = privacy::delete_old_inbox(&tx, inbox_before, BATCH)?;
                    // Answers in conversations go with the messages they answered.
                    crate::store::threads::delete_old_answers(&tx, inbox_before, BATCH)?;
                    let deliveries = privacy::delete_old_deliveries(&tx, deliveries_before, BATCH * 10)?;
                    tx.commit()?;
                    Ok((privacy::inactive_subscribers(c, unconfirmed, left, BATCH)?, inbox, deliveries))
                })
                .await?;
            let erased = self.erase_ids(ids, "retention".into(), None).await?;
            report.erased += erased;
            report.inbox += inbox;
            report.deliveries += deliveries;
            if erased == 0 && inbox == 0 && deliveries == 0 {
                break;
            }
        }
        self.store().call(move |c| meta_set(c, "main", "retention_swept_at", &now.to_be_bytes())).await?;
        tracing::info!(erased = report.erased, inbox = report.inbox, deliveries = report.deliveries, "retention sweep");
        if report != SweepReport::default() {
            let detail = crate::domain::Message::new("audit-retention")
                .with("erased", report.erased)
                .with("inbox", report.inbox)
                .with("deliveries", report.deliveries)
                .stored();
            self.audit(&Actor::System, Action::RetentionSweep, "", detail).await?;
        }
        Ok(report)
    }

    /// The privacy notice of a channel (public: anyone may read what happens to their data).
    pub async fn privacy_notice(&self, keyword: &str) -> Result<Notice> {
        let kw = keyword.to_uppercase();
        let channel = self
            .store()
            .call(move |c| crate::store::channels::by_keyword(c, &kw)?.ok_or(crate::store::StoreError::NotFound))
            .await?;
        let s = self.settings();
        let quiet = s.quiet.shown(&channel.draft.quiet);
        Ok(Notice {
            channel,
            settings: s.notice.clone(),
            retention: s.retention,
            confirm_hours: s.confirm_hours,
            quiet,
        })
    }

    /// Runs the retention sweep if the last one is a day old (or there was none).
    pub async fn retention_sweep_if_due(&self) -> Result<Option<SweepReport>> {
        let now = self.now();
        let last = self
            .store()
            .call(|c| {
                Ok(meta_get(c, "main", "retention_swept_at")?.and_then(|v| v.try_into().ok()).map(i64::from_be_bytes))
            })
            .await?;
        if last.is_some_and(|t| now - t < 86_400) {
            return Ok(None);
        }
        Ok(Some(self.retention_sweep().await?))
    }
}

fn erased_event(subscriber: i64, at: i64, actor: &str) -> NewEvent {
    NewEvent {
        at,
        subscriber,
        channel: None,
        transport: None,
        kind: ConsentKind::Erased,
        gateway_message_id: None,
        inbound_sealed: None,
        wording_version: None,
        wording_sha256: None,
        actor: actor.to_string(),
    }
}
