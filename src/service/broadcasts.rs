//! Broadcasts and newsletters: preview (encoding, segments, audience), create with an idempotency key,
//! the declared frequency, schedule. A running one is watched and steered in [`super::running`].

pub use super::running::{Progress, Waiting};

use serde::{Deserialize, Serialize};

use super::{Actor, Result, Service, ServiceError};
use crate::domain::Problem;
use crate::domain::audit::Action;
use crate::domain::segments::{self, Segments};
use crate::domain::{BroadcastId, ChannelId, ChannelKind, Message, Transport, markdown};
use crate::store::audit;
use crate::store::broadcasts::{self, Broadcast, Inserted, NewBroadcast, Promise, Translation};
use crate::store::{channels, outbox};

/// SMS broadcasts longer than this many parts are refused (a newsletter links to its archive instead).
pub const MAX_SMS_PARTS: u32 = 10;
pub const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, Clone, Deserialize)]
pub struct Compose {
    pub kind: ChannelKind,
    #[serde(default)]
    pub title: String,
    pub body: String,
    pub channels: Vec<ChannelId>,
    /// Unix time to send at; `None` sends now.
    pub send_at: Option<i64>,
    /// Nothing is delivered after this time.
    pub deadline: Option<i64>,
    /// Send even though a channel's declared frequency is used up: why. Owners only (and the CLI);
    /// audited with the reason.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// The same key twice creates one broadcast.
    pub idempotency_key: String,
    /// A version in a second language, for the subscribers of that language (everyone else gets
    /// `body`).
    #[serde(default)]
    pub translation: Option<ComposeTranslation>,
}

pub use crate::domain::draft::ComposeTranslation;
use crate::domain::draft::Written;

impl Compose {
    /// A draft's content, to be sent once under `idempotency_key`.
    pub fn from_written(w: Written, idempotency_key: String) -> Self {
        Self {
            kind: w.kind,
            title: w.title,
            body: w.body,
            channels: w.channels,
            send_at: w.send_at,
            deadline: w.deadline,
            override_reason: None,
            idempotency_key,
            translation: w.translation,
        }
    }

    /// What was written, to keep as a draft.
    pub fn written(&self) -> Written {
        Written {
            kind: self.kind,
            title: self.title.clone(),
            body: self.body.clone(),
            channels: self.channels.clone(),
            send_at: self.send_at,
            deadline: self.deadline,
            translation: self.translation.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub sms_text: String,
    pub html: Option<String>,
    pub segments: Segments,
    /// Recipients per transport (distinct subscribers).
    pub audience: Vec<(Transport, i64)>,
    /// SMS segments in total: segments × SMS and sandbox recipients.
    pub total_segments: i64,
    /// Why sending this text would be refused (too many parts for a gateway), said before sending.
    pub refusal: Option<Problem>,
    /// What the SMS gateways' quotas mean for it, sent now (`None`: no quotas, or no SMS).
    pub quota: Option<super::quotas::QuotaEstimate>,
}

/// Why a text is too long for SMS: more parts than herold sends, or than a gateway takes.
enum TooLong {
    Parts,
    Gateway(String, u32),
}

pub(super) fn render(kind: ChannelKind, title: &str, body: &str) -> (String, Option<String>) {
    match kind {
        ChannelKind::Broadcast => (body.trim().to_string(), None),
        ChannelKind::Newsletter => {
            let text = markdown::to_text(body);
            let html = markdown::to_html(body);
            let title = title.trim();
            if title.is_empty() {
                (text, Some(html))
            } else {
                let esc = ammonia::clean_text(title);
                (format!("{title}\n\n{text}"), Some(format!("<h3>{esc}</h3>{html}")))
            }
        }
    }
}

/// The start of a long newsletter and its archive link, in at most two SMS parts.
fn shorten(title: &str, text: &str, url: &str) -> String {
    let body = text.strip_prefix(title).unwrap_or(text).trim();
    let mut n = body.chars().count().min(300);
    loop {
        let excerpt: String = body.chars().take(n).collect();
        let excerpt = excerpt.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&excerpt);
        let msg =
            if title.is_empty() { format!("{excerpt} … {url}") } else { format!("{title}: {excerpt} … {url}") };
        if segments::count(&msg).parts <= 2 || n == 0 {
            return msg;
        }
        n = n.saturating_sub(20);
    }
}

impl Service {
    /// The SMS gateway that takes the fewest parts, and how many (set by the app): a text longer than
    /// that would fail at that gateway, so it is refused before anything is queued.
    pub fn set_sms_max_parts(&self, gateway: Option<(String, u32)>) {
        *self.inner.sms_max_parts.lock().expect("max parts lock") = gateway;
    }

    /// Why a text of `parts` SMS parts cannot go out (to channels that reach SMS when `by_sms`).
    fn too_long_for_sms(&self, parts: u32, by_sms: bool) -> Option<TooLong> {
        if parts > MAX_SMS_PARTS {
            return Some(TooLong::Parts);
        }
        let gateway = self.inner.sms_max_parts.lock().expect("max parts lock").clone();
        match gateway {
            Some((name, max)) if by_sms && parts > max => Some(TooLong::Gateway(name, max)),
            _ => None,
        }
    }

    /// Newsletters of a channel with a public archive (404 otherwise).
    pub async fn archive(&self, keyword: &str) -> Result<(crate::domain::Channel, Vec<Broadcast>)> {
        let kw = keyword.to_uppercase();
        self.store()
            .call(move |c| {
                let ch = channels::by_keyword(c, &kw)?
                    .filter(|ch| ch.draft.public_archive)
                    .ok_or(crate::store::StoreError::NotFound)?;
                let list = broadcasts::archive(c, ch.id, 200)?;
                Ok((ch, list))
            })
            .await
            .map_err(Into::into)
    }

    pub async fn preview(
        &self,
        kind: ChannelKind,
        title: &str,
        body: &str,
        channels: Vec<ChannelId>,
    ) -> Result<Preview> {
        let (sms_text, html) = render(kind, title, body);
        let segments = segments::count(&sms_text);
        let audience = self.store().call(move |c| outbox::audience(c, &channels)).await?;
        let sms: i64 = audience.iter().filter(|(t, _)| *t != Transport::Matrix).map(|(_, n)| n).sum();
        let by_sms = audience.iter().any(|(t, n)| *t == Transport::Sms && *n > 0);
        let parts = segments.parts;
        let refusal = match self.too_long_for_sms(parts, by_sms).filter(|_| kind == ChannelKind::Broadcast) {
            Some(TooLong::Parts) => {
                Some(Problem::new("sms-too-many-parts-plain").with("parts", parts).with("max", MAX_SMS_PARTS))
            }
            Some(TooLong::Gateway(name, max)) => Some(
                Problem::new("sms-over-gateway-max-plain").with("parts", parts).with("gateway", name).with("max", max),
            ),
            None => None,
        };
        let by_sms_count = audience.iter().filter(|(t, _)| *t == Transport::Sms).map(|(_, n)| n).sum();
        let quota = self.quota_estimate(by_sms_count, parts, self.now());
        Ok(Preview {
            total_segments: sms * i64::from(segments.parts),
            sms_text,
            html,
            segments,
            audience,
            refusal,
            quota,
        })
    }

    /// Creates (or, for a known idempotency key, returns) a broadcast; one due now is materialised at
    /// once. With `admin.editors_need_approval`, an editor cannot: they submit a draft instead.
    pub async fn create_broadcast(&self, actor: &Actor, c: Compose) -> Result<(Broadcast, bool)> {
        if self.needs_approval(actor).await? {
            return Err(ServiceError::Invalid(Problem::new("approval-needed")));
        }
        self.insert_broadcast(actor, c, None).await
    }

    /// Whether what `actor` writes must be approved by an owner before it is sent: an editor's, when
    /// the installation says so. Owners, API tokens (an owner gave them the send scope) and the
    /// command line send directly.
    pub async fn needs_approval(&self, actor: &Actor) -> Result<bool> {
        if !self.settings().approval {
            return Ok(false);
        }
        Ok(match actor {
            Actor::Admin { id, .. } => {
                let id = *id;
                self.store().call(move |c| crate::store::admins::by_id(c, id)).await?.role != crate::domain::Role::Owner
            }
            _ => false,
        })
    }

    /// [`Self::create_broadcast`] without the approval check; `author` (as audit entries name actors)
    /// is who wrote it when that is not `actor` (an approved draft).
    pub(super) async fn insert_broadcast(
        &self,
        actor: &Actor,
        c: Compose,
        author: Option<String>,
    ) -> Result<(Broadcast, bool)> {
        let body = c.body.trim().to_string();
        if body.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("message-empty")));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(ServiceError::Invalid(Problem::new("message-too-long").with("max", MAX_BODY_CHARS)));
        }
        if c.channels.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("channel-needed")));
        }
        let key = c.idempotency_key.trim().to_string();
        if key.is_empty() || key.len() > 100 {
            return Err(ServiceError::Invalid(Problem::new("idempotency-key-needed")));
        }
        let (sms_text, html) = render(c.kind, &c.title, &body);
        let parts = segments::count(&sms_text).parts;
        let translation = match &c.translation {
            Some(t) if !t.body.trim().is_empty() => {
                if t.body.chars().count() > MAX_BODY_CHARS {
                    return Err(ServiceError::Invalid(Problem::new("message-too-long").with("max", MAX_BODY_CHARS)));
                }
                let (sms_text, html) = render(c.kind, &t.title, t.body.trim());
                Some(Translation {
                    lang: t.lang,
                    title: t.title.trim().into(),
                    body: t.body.trim().into(),
                    sms_text,
                    html,
                })
            }
            _ => None,
        };
        // The longer of the two versions decides whether SMS can carry it.
        let parts = parts.max(translation.as_ref().map_or(0, |t| segments::count(&t.sms_text).parts));
        let (now, zone) = (self.now(), self.settings().zone.clone());
        let send_at = c.send_at.unwrap_or(now).max(now);
        if let Some(d) = c.deadline
            && d <= send_at
        {
            return Err(ServiceError::Invalid(Problem::new("deadline-before-send")));
        }
        let chans = c.channels.clone();
        let existing = self
            .store()
            .call(move |conn| chans.iter().map(|id| channels::by_id(conn, *id)).collect::<Result<Vec<_>, _>>());
        let chosen = existing.await.map_err(|e| match ServiceError::from(e) {
            ServiceError::NotFound => ServiceError::Invalid(Problem::new("channels-missing")),
            e => e,
        })?;
        // A newsletter too long for SMS goes out as a short text with a link to its archive page.
        let archive = chosen.iter().find(|ch| ch.draft.public_archive && c.kind == ChannelKind::Newsletter);
        let by_sms = chosen.iter().any(|ch| ch.draft.transports.contains(&crate::domain::Transport::Sms));
        // A deadline the gateways' quotas cannot meet is refused now, not missed later.
        if let Some(deadline) = c.deadline.filter(|_| by_sms) {
            self.refuse_after_deadline(c.channels.clone(), parts, send_at, deadline).await?;
        }
        let hint = if c.kind == ChannelKind::Newsletter { "yes" } else { "no" };
        match self.too_long_for_sms(parts, by_sms).filter(|_| archive.is_none()) {
            Some(TooLong::Parts) => {
                return Err(ServiceError::Invalid(
                    Problem::new("sms-too-many-parts")
                        .with("parts", parts)
                        .with("max", MAX_SMS_PARTS)
                        .with("archive", hint),
                ));
            }
            Some(TooLong::Gateway(name, max)) => {
                return Err(ServiceError::Invalid(
                    Problem::new("sms-over-gateway-max")
                        .with("parts", parts)
                        .with("gateway", name)
                        .with("max", max)
                        .with("archive", hint),
                ));
            }
            None => {}
        }
        let archive_keyword = archive.map(|ch| ch.draft.keyword.to_lowercase());
        let override_reason = match c.override_reason.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) if r.chars().count() > 300 => {
                return Err(ServiceError::Invalid(Problem::new("frequency-override-reason")));
            }
            Some(r) => {
                self.check_owner(actor, "frequency-override-owner").await?;
                Some(r.to_string())
            }
        };
        let promises: Vec<Promise> = chosen
            .iter()
            .filter_map(|ch| {
                ch.draft.frequency.map(|frequency| Promise { channel: ch.id, name: ch.draft.name.clone(), frequency })
            })
            .collect();
        let new = NewBroadcast {
            kind: c.kind,
            title: c.title.trim().into(),
            body,
            sms_text,
            html,
            idempotency_key: key,
            send_at,
            deadline: c.deadline,
            frequency_override: override_reason.is_some(),
            created_by: author.unwrap_or_else(|| actor.to_string()),
            channels: c.channels,
            translation,
        };
        let (title, base, audit_actor) = (new.title.clone(), self.public_url(), actor.clone());
        let (id, created) = self
            .store()
            .call(move |conn| {
                let tx = crate::store::write_tx(conn)?;
                let Inserted { id, created, over_promise } = broadcasts::insert(&tx, &new, &promises, now)?;
                if over_promise {
                    tracing::warn!(broadcast = %id, actor = %audit_actor, "declared frequency overridden");
                }
                if created {
                    let (action, detail) = match (send_at > now, over_promise) {
                        (true, true) => (
                            Action::BroadcastScheduled,
                            Message::new("audit-scheduled-overridden")
                                .with("at", zone.when(send_at))
                                .with("reason", override_reason.clone().unwrap_or_default())
                                .stored(),
                        ),
                        (true, false) => (
                            Action::BroadcastScheduled,
                            Message::new("audit-scheduled").with("at", zone.when(send_at)).stored(),
                        ),
                        (false, true) => (
                            Action::BroadcastSent,
                            Message::new("audit-frequency-overridden")
                                .with("reason", override_reason.clone().unwrap_or_default())
                                .stored(),
                        ),
                        (false, false) => (Action::BroadcastSent, String::new()),
                    };
                    audit::append(&tx, audit_actor.audit(now, action, format!("broadcast {id}"), detail))?;
                }
                if created
                    && parts > MAX_SMS_PARTS
                    && let Some(kw) = archive_keyword
                {
                    let url = format!("{base}/n/{kw}/{id}");
                    broadcasts::set_sms_text(&tx, id, &shorten(&title, &new.sms_text, &url))?;
                    if let Some(t) = &new.translation {
                        let short = shorten(&t.title, &t.sms_text, &url);
                        broadcasts::set_translation(&tx, id, &Translation { sms_text: short, ..t.clone() })?;
                    }
                }
                tx.commit()?;
                Ok((id, created))
            })
            .await?;
        if created {
            tracing::info!(broadcast = %id, actor = %actor, "broadcast created");
            self.start_due_broadcasts().await?;
        }
        Ok((self.broadcast(id).await?, created))
    }

    /// Only an owner (or the operator at the command line) may do this (send over a frequency
    /// promise, approve a draft); anyone else is refused with `problem`.
    pub(super) async fn check_owner(&self, actor: &Actor, problem: &'static str) -> Result<()> {
        let allowed = match actor {
            Actor::Cli => true,
            Actor::Admin { id, .. } => {
                let id = *id;
                self.store().call(move |c| crate::store::admins::by_id(c, id)).await?.role == crate::domain::Role::Owner
            }
            _ => false,
        };
        if allowed { Ok(()) } else { Err(ServiceError::Invalid(Problem::new(problem))) }
    }

    /// Materialises every scheduled broadcast whose time has come.
    pub async fn start_due_broadcasts(&self) -> Result<usize> {
        let now = self.now();
        let started = self
            .store()
            .call(move |c| {
                let due = broadcasts::due(c, now)?;
                for id in &due {
                    let n = outbox::materialise(c, *id, now)?;
                    tracing::info!(broadcast = %id, deliveries = n, "broadcast started");
                }
                Ok(due.len())
            })
            .await?;
        if started > 0 {
            self.wake_worker();
        }
        Ok(started)
    }

    pub async fn broadcast(&self, id: BroadcastId) -> Result<Broadcast> {
        Ok(self.store().call(move |c| broadcasts::get(c, id)).await?)
    }

    pub async fn broadcasts(&self, limit: i64) -> Result<Vec<Broadcast>> {
        Ok(self.store().call(move |c| broadcasts::list(c, limit)).await?)
    }
}
