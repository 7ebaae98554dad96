//! The SMS gateways' quotas seen from the use cases: loaded from what was sent when herold starts,
//! and what is left of them for the compose page, the dashboard and the Gateways page.

use std::sync::Arc;

use serde::Serialize;

use super::{Result, Service};
use crate::domain::quota::{Left, QuotaBook};
use crate::store::quotas;

/// How long the SMS gateways' quotas make a broadcast take, said before it is sent.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaEstimate {
    /// Each gateway with quotas and what is left of them now.
    #[serde(skip)]
    pub gateways: Vec<(String, Left)>,
    /// SMS parts the broadcast needs.
    pub parts: i64,
    /// Parts a day broadcasts may use over all gateways (`None`: a gateway without a day quota).
    pub per_day: Option<i64>,
    /// Days after the first that it needs (0: all on the first day), and the start of its last day.
    pub days: i64,
    pub last_day: i64,
    /// Recipients who may wait for next month's quota (counted as if all were new this month), and
    /// when that month begins.
    pub month_waiting: i64,
    pub next_month: i64,
}

impl QuotaEstimate {
    /// When the last message is expected to go: its last day, or next month for those who wait.
    pub fn finish(&self) -> i64 {
        if self.month_waiting > 0 { self.last_day.max(self.next_month) } else { self.last_day }
    }
}

impl Service {
    /// Installs the gateways' quotas and loads what each sent today and this month (done once by
    /// the app, before anything is sent).
    pub async fn set_quotas(&self, book: Arc<QuotaBook>) -> Result<()> {
        let (day, month) = book.today();
        for g in book.gateways() {
            let name = g.clone();
            let (parts, recipients) = self.store().call(move |c| quotas::used(c, &name, day, month)).await?;
            book.load(&g, parts, recipients);
        }
        *self.inner.quotas.lock().expect("quotas lock") = Some(book);
        Ok(())
    }

    /// What is left of each gateway's quotas now (gateways with quotas only), by name.
    pub fn quotas_left(&self) -> Vec<(String, Left)> {
        let Some(book) = self.inner.quotas.lock().expect("quotas lock").clone() else { return vec![] };
        book.gateways().into_iter().filter_map(|g| book.left(&g).map(|l| (g, l))).collect()
    }

    /// What the gateways' quotas mean for `recipients` SMS of `parts` parts each, sent from `start`
    /// (`None`: no gateway has quotas).
    pub fn quota_estimate(&self, recipients: i64, parts: u32, start: i64) -> Option<QuotaEstimate> {
        let gateways = self.quotas_left();
        if gateways.is_empty() || recipients == 0 {
            return None;
        }
        let all = self.inner.webhooks.lock().expect("webhooks lock").len();
        let needed = recipients * i64::from(parts);
        let day_limited: Vec<&Left> =
            gateways.iter().map(|(_, l)| l).filter(|l| l.broadcast_parts_left.is_some()).collect();
        let next_day = gateways[0].1.next_day;
        let (per_day, days, last_day) = if day_limited.len() < all {
            (None, 0, start)
        } else {
            let per_day: i64 = day_limited.iter().map(|l| i64::from(l.limits.broadcast_parts().unwrap_or(0))).sum();
            let first = if start < next_day {
                day_limited.iter().map(|l| i64::from(l.broadcast_parts_left.unwrap_or(0))).sum()
            } else {
                per_day
            };
            let rest = needed - first;
            let days = if rest <= 0 { 0 } else { (rest + per_day - 1) / per_day.max(1) };
            // The last day starts at a midnight (days of 24 hours: an hour off across a clock change).
            let last = if days == 0 { start } else { next_day.max(start) + (days - 1) * 86_400 };
            (Some(per_day), days, last)
        };
        let month_limited: Vec<&Left> =
            gateways.iter().map(|(_, l)| l).filter(|l| l.recipients_left.is_some()).collect();
        let month_waiting = if month_limited.len() < all {
            0
        } else {
            (recipients - month_limited.iter().map(|l| i64::from(l.recipients_left.unwrap_or(0))).sum::<i64>()).max(0)
        };
        let next_month = gateways[0].1.next_month;
        Some(QuotaEstimate { gateways, parts: needed, per_day, days, last_day, month_waiting, next_month })
    }

    /// Refuses a broadcast to `channels` (`parts` parts each) sent from `send_at` that the gateways'
    /// quotas cannot finish before `deadline`.
    pub(super) async fn refuse_after_deadline(
        &self,
        channels: Vec<crate::domain::ChannelId>,
        parts: u32,
        send_at: i64,
        deadline: i64,
    ) -> Result<()> {
        let audience = self.store().call(move |c| crate::store::outbox::audience(c, &channels)).await?;
        let n = audience.iter().filter(|(t, _)| *t == crate::domain::Transport::Sms).map(|(_, n)| n).sum();
        match self.quota_estimate(n, parts, send_at).filter(|e| e.finish() > deadline) {
            Some(e) => Err(super::ServiceError::Invalid(
                crate::domain::Problem::new("quota-after-deadline")
                    .with("date", self.settings().zone.day(e.finish()))
                    .with("per_day", e.per_day.unwrap_or(0))
                    .with("waiting", e.month_waiting),
            )),
            None => Ok(()),
        }
    }
}
