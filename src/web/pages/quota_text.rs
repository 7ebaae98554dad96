//! The SMS gateways' quotas in words: what a broadcast will take (compose preview) and how much of
//! each gateway's quotas is used (dashboard, Gateways page).

use super::Ctx;
use crate::domain::Message;
use crate::domain::quota::Left;
use crate::service::quotas::QuotaEstimate;

impl Ctx {
    /// How long the quotas make a broadcast take: (CSS class, sentence), most important first.
    pub fn quota_lines(&self, q: &QuotaEstimate) -> Vec<(&'static str, String)> {
        let mut lines = Vec::new();
        let first = match q.per_day {
            None => self.t.with("c-quota-no-day", "parts", q.parts),
            Some(_) if q.days == 0 => self.t.with("c-quota-today", "parts", q.parts),
            Some(per_day) => self.t.message(
                &Message::new("c-quota-days")
                    .with("days", q.days + 1)
                    .with("per_day", per_day)
                    .with("date", self.zone.day(q.last_day)),
            ),
        };
        lines.push(if q.days > 0 { ("warning", first) } else { ("notice", first) });
        if q.month_waiting > 0 {
            let waiting = self.t.with2("c-quota-month", "n", q.month_waiting, "date", self.zone.day(q.next_month));
            lines.push(("warning", waiting));
        }
        lines
    }

    /// How much of a gateway's quotas is used: `phone: 101 of 125 parts today · 12 of 250 recipients this month`.
    pub fn quota_use(&self, gateway: &str, l: &Left) -> String {
        let mut parts = Vec::new();
        if let Some(day) = l.limits.parts_per_day {
            parts.push(self.t.with2("quota-day", "used", l.parts_used, "per_day", day));
        }
        if let Some(month) = l.limits.recipients_per_month {
            parts.push(self.t.with2("quota-month", "used", l.recipients, "per_month", month));
        }
        format!("{gateway}: {}", parts.join(" · "))
    }
}
