//! Broadcasts: list, compose with a server-side preview (encoding, segments, audience), send or
//! schedule, and the progress page with pause, resume and cancel.

use crate::domain::Problem;
use crate::domain::Reason;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok, render, see_other};
use crate::domain::{BroadcastId, Channel, ChannelId, ChannelKind};
use crate::service::Broadcast;
use crate::service::ServiceError;
use crate::service::auth::random_token;
use crate::service::broadcasts::{Compose, ComposeTranslation, Preview, Progress};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "broadcasts.html")]
struct ListPage {
    ctx: Ctx,
    broadcasts: Vec<Broadcast>,
}

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposePage {
    ctx: Ctx,
    channels: Vec<Channel>,
    f: ComposeForm,
    preview: Option<Preview>,
    /// The second language's version, previewed the same way.
    preview_tr: Option<Preview>,
    error: Option<Problem>,
}

#[derive(Template)]
#[template(path = "broadcast.html")]
struct ShowPage {
    ctx: Ctx,
    p: Progress,
}

#[derive(Template)]
#[template(path = "broadcast_progress.html")]
struct ProgressPartial {
    ctx: Ctx,
    p: Progress,
}

/// The compose form as posted; channels arrive as repeated `channel` fields.
#[derive(Debug, Clone, Default)]
pub struct ComposeForm {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub channels: Vec<ChannelId>,
    pub send_at: String,
    pub deadline: String,
    /// Why to send over a frequency promise (owners only).
    pub override_reason: String,
    pub idempotency_key: String,
    /// The second language's version: its language (empty: none), title and text.
    pub tr_lang: String,
    pub tr_title: String,
    pub tr_body: String,
}

impl ComposeForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = ComposeForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => f.kind = v,
                "title" => f.title = v,
                "body" => f.body = v,
                "channel" => f.channels.extend(v.parse::<ChannelId>().ok()),
                "send_at" => f.send_at = v,
                "deadline" => f.deadline = v,
                "override_reason" => f.override_reason = v,
                "idempotency_key" => f.idempotency_key = v,
                "tr_lang" => f.tr_lang = v,
                "tr_title" => f.tr_title = v,
                "tr_body" => f.tr_body = v,
                _ => {}
            }
        }
        f
    }

    fn kind(&self) -> Result<ChannelKind, Problem> {
        ChannelKind::parse(&self.kind).map_err(|e| e.0)
    }

    fn has(&self, channel: &ChannelId) -> bool {
        self.channels.contains(channel)
    }

    /// The broadcast the form describes; its times are local to `zone`.
    fn compose(&self, zone: &crate::domain::zone::Zone) -> Result<Compose, Problem> {
        Ok(Compose {
            kind: self.kind()?,
            title: self.title.clone(),
            body: self.body.clone(),
            channels: self.channels.clone(),
            send_at: parse_time(zone, &self.send_at)?,
            deadline: parse_time(zone, &self.deadline)?,
            override_reason: Some(self.override_reason.clone()).filter(|r| !r.trim().is_empty()),
            idempotency_key: self.idempotency_key.clone(),
            translation: crate::web::i18n::Lang::parse(&self.tr_lang).map(|lang| ComposeTranslation {
                lang,
                title: self.tr_title.clone(),
                body: self.tr_body.clone(),
            }),
        })
    }
}

/// `2026-11-23T18:30` (from a datetime-local input, in the installation's zone) or empty.
fn parse_time(zone: &crate::domain::zone::Zone, s: &str) -> Result<Option<i64>, Problem> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    zone.from_input(s).map(Some).ok_or_else(|| Problem::new("time-form").with("input", s))
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    ok(&ListPage { ctx: Ctx::new(&me)?, broadcasts: state.service.broadcasts(100).await? })
}

pub async fn new_form(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let f = ComposeForm { kind: "broadcast".into(), idempotency_key: random_token(16), ..Default::default() };
    let channels = state.service.channels().await?;
    ok(&ComposePage { ctx: Ctx::new(&me)?, channels, f, preview: None, preview_tr: None, error: None })
}

async fn compose_page(
    state: &AppState,
    me: &Me,
    f: ComposeForm,
    status: StatusCode,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let preview = match f.kind() {
        Ok(kind) if !f.body.trim().is_empty() => {
            Some(state.service.preview(kind, &f.title, &f.body, f.channels.clone()).await?)
        }
        _ => None,
    };
    let preview_tr = match f.kind() {
        Ok(kind) if !f.tr_lang.is_empty() && !f.tr_body.trim().is_empty() => {
            Some(state.service.preview(kind, &f.tr_title, &f.tr_body, f.channels.clone()).await?)
        }
        _ => None,
    };
    let channels = state.service.channels().await?;
    render(status, &ComposePage { ctx: Ctx::new(me)?, channels, f, preview, preview_tr, error })
}

pub async fn preview(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    compose_page(&state, &me, ComposeForm::from_pairs(form.into_inner()), StatusCode::OK, None).await
}

pub async fn create(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let f = ComposeForm::from_pairs(form.into_inner());
    let error = match f.compose(&me.2) {
        Err(m) => m,
        Ok(c) => match state.service.create_broadcast(&me.0.actor(), c).await {
            Ok((b, _)) => return Ok(see_other(&format!("/broadcasts/{}", b.id))),
            Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => m,
            Err(e) => return Err(e.into()),
        },
    };
    compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(error)).await
}

pub async fn show(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> Result<HttpResponse, WebError> {
    ok(&ShowPage { ctx: Ctx::new(&me)?, p: state.service.progress(*id).await? })
}

pub async fn progress(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<BroadcastId>,
) -> Result<HttpResponse, WebError> {
    ok(&ProgressPartial { ctx: Ctx::new(&me)?, p: state.service.progress(*id).await? })
}

async fn act(state: &AppState, me: &Me, id: BroadcastId, what: &str) -> Result<HttpResponse, WebError> {
    let r = match what {
        "pause" => state.service.pause_broadcast(&me.0.actor(), id, Reason::PausedByAdmin).await,
        "resume" => state.service.resume_broadcast(&me.0.actor(), id).await,
        _ => state.service.cancel_broadcast(&me.0.actor(), id).await,
    };
    match r {
        Ok(()) | Err(ServiceError::Conflict(_)) => Ok(see_other(&format!("/broadcasts/{id}"))),
        Err(e) => Err(e.into()),
    }
}

pub async fn pause(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> Result<HttpResponse, WebError> {
    act(&state, &me, *id, "pause").await
}

pub async fn resume(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> Result<HttpResponse, WebError> {
    act(&state, &me, *id, "resume").await
}

pub async fn cancel(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> Result<HttpResponse, WebError> {
    act(&state, &me, *id, "cancel").await
}

/// The broadcast page's chart: messages sent (blue) and failed (red) per minute.
pub fn timeline_svg(p: &Progress, ctx: &super::Ctx) -> String {
    let t = ctx.t;
    use crate::web::chart::{COLORS, Series, lines};
    let sent = Series { points: p.timeline.iter().map(|m| (m.0, m.1)).collect(), color: COLORS[0] };
    let failed = Series { points: p.timeline.iter().map(|m| (m.0, m.2)).collect(), color: COLORS[4] };
    lines(&[sent, failed], &t.get("bc-over-time"), |minute| ctx.zone.time_of_day(minute * 60))
}
