//! Broadcasts: list, compose with a server-side preview (encoding, segments, audience), send or
//! schedule, and the progress page with pause, resume and cancel.

use crate::domain::Problem;
use crate::domain::Reason;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok, render, see_other};
use crate::domain::draft::Draft;
use crate::domain::{BroadcastId, Channel, ChannelId, ChannelKind, DraftId};
use crate::service::Broadcast;
use crate::service::ServiceError;
use crate::service::auth::random_token;
use crate::service::broadcasts::{Compose, ComposeTranslation, Preview, Progress};
use crate::service::test_send::{TestOutcome, TestTo};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "broadcasts.html")]
struct ListPage {
    ctx: Ctx,
    broadcasts: Vec<Broadcast>,
    drafts: Vec<Draft>,
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
    /// The draft being edited, with its state and an owner's comment.
    draft: Option<Draft>,
    /// This admin submits for approval instead of sending.
    needs_approval: bool,
    /// Where a test can go: sandbox phones (`sandbox:<id>`, their number) and routes (gateway names).
    test_routes: Vec<(String, String)>,
    /// How the test send just made went.
    tested: Option<Vec<TestOutcome>>,
}

#[derive(Template)]
#[template(path = "broadcast.html")]
struct ShowPage {
    ctx: Ctx,
    p: Progress,
    /// Who wrote it, by name, and the names of its channels.
    author: String,
    channels: Vec<String>,
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
    /// The draft this form edits.
    pub draft: Option<DraftId>,
    /// Where to send a test: `sandbox:<id>` or a route's name, and the address typed for a route.
    pub test_to: String,
    pub test_address: String,
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
                "draft" => f.draft = v.parse().ok(),
                "test_to" => f.test_to = v,
                "test_address" => f.test_address = v,
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

    /// A stored draft in the form, its times local to `zone`.
    fn from_draft(d: &Draft, zone: &crate::domain::zone::Zone) -> Self {
        let w = &d.written;
        let tr = w.translation.as_ref();
        ComposeForm {
            kind: w.kind.as_str().into(),
            title: w.title.clone(),
            body: w.body.clone(),
            channels: w.channels.clone(),
            send_at: w.send_at.map(|t| zone.input_value(t)).unwrap_or_default(),
            deadline: w.deadline.map(|t| zone.input_value(t)).unwrap_or_default(),
            override_reason: String::new(),
            idempotency_key: random_token(16),
            tr_lang: tr.map(|t| t.lang.code().to_string()).unwrap_or_default(),
            tr_title: tr.map(|t| t.title.clone()).unwrap_or_default(),
            tr_body: tr.map(|t| t.body.clone()).unwrap_or_default(),
            draft: Some(d.id),
            test_to: String::new(),
            test_address: String::new(),
        }
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
    let (broadcasts, drafts) = (state.service.broadcasts(100).await?, state.service.drafts().await?);
    ok(&ListPage { ctx: Ctx::new(&me)?, broadcasts, drafts })
}

pub async fn new_form(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let f = ComposeForm { kind: "broadcast".into(), idempotency_key: random_token(16), ..Default::default() };
    compose_page(&state, &me, f, StatusCode::OK, None).await
}

async fn compose_page(
    state: &AppState,
    me: &Me,
    f: ComposeForm,
    status: StatusCode,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    compose_page_tested(state, me, f, status, error, None).await
}

async fn compose_page_tested(
    state: &AppState,
    me: &Me,
    f: ComposeForm,
    status: StatusCode,
    error: Option<Problem>,
    tested: Option<Vec<TestOutcome>>,
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
    let draft = match f.draft {
        Some(id) => Some(state.service.draft(id).await?),
        None => None,
    };
    let needs_approval = state.service.needs_approval(&me.0.actor()).await?;
    let mut test_routes: Vec<(String, String)> = state
        .service
        .sandbox_phones()
        .await?
        .into_iter()
        .map(|(id, number)| (format!("sandbox:{id}"), number))
        .collect();
    test_routes.extend(state.service.testers().into_iter().map(|(name, _)| (name.clone(), name)));
    let page = ComposePage {
        ctx: Ctx::new(me)?,
        channels,
        f,
        preview,
        preview_tr,
        error,
        draft,
        needs_approval,
        test_routes,
        tested,
    };
    render(status, &page)
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
    let mut f = ComposeForm::from_pairs(form.into_inner());
    let actor = me.0.actor();
    let sent = match f.compose(&me.2) {
        Err(m) => Err(ServiceError::Invalid(m)),
        // A draft is saved as it is now, then sent (an owner's send of a submitted draft approves it);
        // someone who needs approval is refused before anything is written.
        Ok(c) if f.draft.is_some() => match state.service.needs_approval(&actor).await {
            Ok(true) => Err(ServiceError::Invalid(Problem::new("approval-needed"))),
            Ok(false) => match state.service.save_draft(&actor, f.draft, c.written()).await {
                Ok(id) => state.service.send_draft(&actor, id).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Ok(c) => state.service.create_broadcast(&actor, c).await.map(|(b, _)| b),
    };
    let error = match sent {
        Ok(b) => return Ok(see_other(&format!("/broadcasts/{}", b.id))),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => m,
        // A second click after the draft was sent: its broadcast.
        Err(ServiceError::NotFound) if f.draft.is_some() => {
            let sent = match f.draft {
                Some(d) => state.service.sent_draft(d).await?,
                None => None,
            };
            return match sent {
                Some(b) => Ok(see_other(&format!("/broadcasts/{b}"))),
                None => Err(ServiceError::NotFound.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    if f.draft.is_some() {
        f.idempotency_key = random_token(16);
    }
    compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(error)).await
}

/// Saves the form as a draft (a new one, or over the one it edits).
pub async fn save_draft(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let f = ComposeForm::from_pairs(form.into_inner());
    let error = match f.compose(&me.2) {
        Err(m) => m,
        Ok(c) => match state.service.save_draft(&me.0.actor(), f.draft, c.written()).await {
            Ok(id) => return Ok(see_other(&format!("/broadcasts/drafts/{id}"))),
            Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => m,
            Err(e) => return Err(e.into()),
        },
    };
    compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(error)).await
}

/// Saves the form as a draft and submits it for an owner's approval.
pub async fn submit(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let mut f = ComposeForm::from_pairs(form.into_inner());
    let actor = me.0.actor();
    let done = match f.compose(&me.2) {
        Err(m) => Err(ServiceError::Invalid(m)),
        Ok(c) => match state.service.save_draft(&actor, f.draft, c.written()).await {
            Ok(id) => {
                f.draft = Some(id);
                state.service.submit_draft(&actor, id).await.map(|()| id)
            }
            Err(e) => Err(e),
        },
    };
    let error = match done {
        Ok(id) => return Ok(see_other(&format!("/broadcasts/drafts/{id}"))),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => m,
        Err(e) => return Err(e.into()),
    };
    compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(error)).await
}

/// Sends the exact message as it stands in the form to a sandbox phone or a typed address.
pub async fn test(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let f = ComposeForm::from_pairs(form.into_inner());
    let to = match f.test_to.strip_prefix("sandbox:") {
        Some(id) => id.parse().map(TestTo::SandboxPhone).map_err(|e: crate::domain::Invalid| e.0),
        None => Ok(TestTo::Typed { route: f.test_to.clone(), address: f.test_address.clone() }),
    };
    let result = match (f.compose(&me.2), to) {
        (Err(m), _) | (_, Err(m)) => Err(ServiceError::Invalid(m)),
        (Ok(c), Ok(to)) => state.service.test_broadcast(&me.0.actor(), &c.written(), to).await,
    };
    match result {
        Ok(outcomes) => compose_page_tested(&state, &me, f, StatusCode::OK, None, Some(outcomes)).await,
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(m)).await
        }
        Err(ServiceError::NotFound) => {
            compose_page(&state, &me, f, StatusCode::BAD_REQUEST, Some(Problem::new("test-route-unknown"))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A draft in the compose form: its state, an owner's comment, and what this admin may do with it.
pub async fn draft(state: web::Data<AppState>, me: Me, id: web::Path<DraftId>) -> Result<HttpResponse, WebError> {
    let d = state.service.draft(*id).await?;
    compose_page(&state, &me, ComposeForm::from_draft(&d, &me.2), StatusCode::OK, None).await
}

#[derive(Debug, serde::Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    comment: String,
}

/// An owner sends a submitted draft back to its author with a comment.
pub async fn return_draft(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<DraftId>,
    form: web::Form<ReturnForm>,
) -> Result<HttpResponse, WebError> {
    match state.service.return_draft(&me.0.actor(), *id, &form.comment).await {
        Ok(()) => Ok(see_other("/broadcasts")),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            let d = state.service.draft(*id).await?;
            compose_page(&state, &me, ComposeForm::from_draft(&d, &me.2), StatusCode::BAD_REQUEST, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_draft(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<DraftId>,
) -> Result<HttpResponse, WebError> {
    state.service.delete_draft(&me.0.actor(), *id).await?;
    Ok(see_other("/broadcasts"))
}

/// Takes a scheduled broadcast back into the drafts, to edit it.
pub async fn unschedule(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<BroadcastId>,
) -> Result<HttpResponse, WebError> {
    match state.service.unschedule(&me.0.actor(), *id).await {
        Ok(draft) => Ok(see_other(&format!("/broadcasts/drafts/{draft}"))),
        Err(ServiceError::Conflict(_)) => Ok(see_other(&format!("/broadcasts/{id}"))),
        Err(e) => Err(e.into()),
    }
}

pub async fn show(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> Result<HttpResponse, WebError> {
    let (ctx, p) = (Ctx::new(&me)?, state.service.progress(*id).await?);
    let all = state.service.channels().await?;
    let channels = p
        .broadcast
        .channels
        .iter()
        .filter_map(|c| all.iter().find(|x| x.id == *c))
        .map(|c| c.draft.name.clone())
        .collect();
    let by = &p.broadcast.created_by;
    let admin = by.strip_prefix("admin:").and_then(|a| a.parse::<i64>().ok());
    let author = match admin {
        Some(a) => state.service.list_admins().await?.into_iter().find(|x| x.id == a).map(|x| x.username),
        None => None,
    }
    .unwrap_or_else(|| ctx.t.actor(by));
    ok(&ShowPage { ctx, p, author, channels })
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
