//! Channels: create, change (bumping the wording version), list, and the dashboard's counts.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Actor, Result, Service};
use crate::domain::audit::Action;
use crate::domain::{Channel, ChannelDraft, ChannelId, Problem, Transport};
use crate::store::channels;

/// Subscriber counts of one channel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelCounts {
    pub channel: Channel,
    /// Active subscriptions per transport.
    pub active: BTreeMap<Transport, i64>,
    pub active_total: i64,
    pub pending_total: i64,
}

impl Service {
    pub async fn create_channel(&self, actor: &Actor, draft: ChannelDraft) -> Result<Channel> {
        let d = draft.validate()?;
        let (now, actor) = (self.now(), actor.clone());
        let ch = self
            .audited(
                move |c| {
                    let id = channels::insert(c, &d, now)?;
                    channels::by_id(c, id)
                },
                move |ch: &Channel| {
                    actor.audit(now, Action::ChannelCreated, format!("channel {}", ch.id), &ch.draft.keyword)
                },
            )
            .await?;
        tracing::info!(channel = %ch.id, "channel created");
        Ok(ch)
    }

    pub async fn update_channel(&self, actor: &Actor, id: ChannelId, draft: ChannelDraft) -> Result<Channel> {
        let d = draft.validate()?;
        let (now, actor) = (self.now(), actor.clone());
        let ch = self
            .audited(
                move |c| {
                    if channels::by_id(c, id)?.matrix_room.is_some() && d.transports.contains(&Transport::Matrix) {
                        return Err(crate::store::StoreError::Conflict(Problem::new("room-or-dms")));
                    }
                    channels::update(c, id, &d, now)?;
                    channels::by_id(c, id)
                },
                move |ch: &Channel| {
                    let detail = crate::domain::Message::new("audit-wording-version")
                        .with("version", ch.wording_version)
                        .stored();
                    actor.audit(now, Action::ChannelUpdated, format!("channel {}", ch.id), detail)
                },
            )
            .await?;
        tracing::info!(channel = %ch.id, wording_version = ch.wording_version, "channel changed");
        Ok(ch)
    }

    pub async fn channel(&self, id: ChannelId) -> Result<Channel> {
        Ok(self.store().call(move |c| channels::by_id(c, id)).await?)
    }

    pub async fn channels(&self) -> Result<Vec<Channel>> {
        Ok(self.store().call(|c| channels::list(c)).await?)
    }

    /// Every channel with its active subscribers per transport and its pending opt-ins.
    pub async fn channel_counts(&self) -> Result<Vec<ChannelCounts>> {
        let (list, counts) = self.store().call(|c| Ok((channels::list(c)?, channels::counts(c)?))).await?;
        Ok(list
            .into_iter()
            .map(|channel| {
                let mut active: BTreeMap<Transport, i64> = Transport::ALL.iter().map(|t| (*t, 0)).collect();
                let mut pending_total = 0;
                for (cid, transport, a, p) in counts.iter().filter(|r| r.0 == channel.id) {
                    let _ = cid;
                    *active.entry(*transport).or_default() += a;
                    pending_total += p;
                }
                let active_total = active.values().sum();
                ChannelCounts { channel, active, active_total, pending_total }
            })
            .collect())
    }
}

impl Service {
    /// Each channel's active subscribers at the end of each of the last `days` days (UTC), from the
    /// totals kept per day; a day without a change carries the day before. Days before the first
    /// record are left out.
    pub async fn channel_growth(&self, days: i64) -> Result<Vec<(Channel, Vec<(i64, i64)>)>> {
        let today = self.now().div_euclid(86_400);
        let since = today - days + 1;
        let (list, rows) = self
            .store()
            .call(move |c| {
                let mut rows = channels::days(c, since)?;
                rows.retain(|r| r.1 <= today);
                Ok((channels::list(c)?, rows))
            })
            .await?;
        Ok(list
            .into_iter()
            .map(|ch| {
                let mine: Vec<(i64, i64)> = rows.iter().filter(|r| r.0 == ch.id).map(|r| (r.1, r.2)).collect();
                let mut points = Vec::new();
                let mut last = mine.iter().rev().find(|r| r.0 < since).map(|r| r.1);
                for day in since..=today {
                    if let Some(&(_, v)) = mine.iter().find(|r| r.0 == day) {
                        last = Some(v);
                    }
                    if let Some(v) = last {
                        points.push((day, v));
                    }
                }
                (ch, points)
            })
            .collect())
    }
}

/// What the public sign-up pages may offer, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct SignupSettings {
    /// The number subscribers text (`sms.public_number`); empty: no SMS on the pages.
    pub sms_number: String,
    /// The bot's Matrix id; empty: no Matrix bot.
    pub matrix_user: String,
}

/// A channel's public sign-up page: how to subscribe on each transport it is on.
#[derive(Debug, Clone)]
pub struct Signup {
    pub channel: Channel,
    /// The number to text `START <keyword>` to (the channel is on SMS and a number is configured).
    pub sms_number: Option<String>,
    /// A matrix.to link to the bot (the channel is on Matrix by DMs).
    pub matrix_link: Option<String>,
    /// A matrix.to link to the channel's announcement room.
    pub room_link: Option<String>,
    /// The hours with no broadcasts (none: any hour).
    pub quiet: Option<crate::domain::quiet::QuietHours>,
}

impl Signup {
    /// The `sms:` link with the opt-in text prefilled (RFC 5724).
    pub fn sms_link(&self) -> Option<String> {
        let number: String = self.sms_number.as_ref()?.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        let body = format!("START {}", self.channel.draft.keyword);
        let body = percent_encoding::utf8_percent_encode(&body, percent_encoding::NON_ALPHANUMERIC);
        Some(format!("sms:{number}?body={body}"))
    }

    pub fn is_empty(&self) -> bool {
        self.sms_number.is_none() && self.matrix_link.is_none() && self.room_link.is_none()
    }
}

/// What this installation reaches people with, for the channel pages' warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub sms_gateway: bool,
    /// `sms.public_number` is set (the sign-up pages can offer SMS).
    pub sms_number: bool,
    pub matrix_bot: bool,
}

impl Reach {
    /// What is missing for a channel on `transports` to reach people, as text keys.
    pub fn gaps(&self, transports: &[Transport]) -> Vec<&'static str> {
        let mut gaps = Vec::new();
        if transports.contains(&Transport::Sms) {
            if !self.sms_gateway {
                gaps.push("gap-sms-gateway");
            } else if !self.sms_number {
                gaps.push("gap-sms-number");
            }
        }
        if transports.contains(&Transport::Matrix) && !self.matrix_bot {
            gaps.push("gap-matrix-bot");
        }
        gaps
    }
}

impl Service {
    /// Whether an SMS gateway, the public number and a Matrix bot are configured.
    pub fn reach(&self) -> Reach {
        let s = &self.settings().signup;
        Reach {
            sms_gateway: !self.inner.webhooks.lock().expect("webhooks lock").is_empty(),
            sms_number: !s.sms_number.is_empty(),
            matrix_bot: !s.matrix_user.is_empty(),
        }
    }

    /// The public sign-up page of the channel with this keyword.
    pub async fn signup(&self, keyword: &str) -> Result<Signup> {
        let kw = keyword.to_uppercase();
        let channel =
            self.store().call(move |c| channels::by_keyword(c, &kw)?.ok_or(crate::store::StoreError::NotFound)).await?;
        let s = &self.settings().signup;
        let on = |t| channel.draft.transports.contains(&t);
        // SMS is offered only when a gateway would receive the message.
        let sms_number =
            (on(Transport::Sms) && self.reach().sms_gateway && !s.sms_number.is_empty()).then(|| s.sms_number.clone());
        let matrix_link = (on(Transport::Matrix) && !s.matrix_user.is_empty())
            .then(|| format!("https://matrix.to/#/{}", s.matrix_user));
        let host = self.inner.room_host.lock().expect("room host lock").clone();
        let room_link = match (&channel.matrix_room, host) {
            (Some(room), Some(host)) => Some(host.link(room)),
            _ => None,
        };
        let quiet = self.settings().quiet.shown(&channel.draft.quiet);
        Ok(Signup { channel, sms_number, matrix_link, room_link, quiet })
    }
}
