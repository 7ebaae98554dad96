//! Subscriber pages: list with masked addresses and search by full number, detail with consent history, add.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok, render, see_other};
use crate::domain::Problem;
use crate::domain::{Channel, ChannelId, SubscriberId, SubscriptionState, Transport};
use crate::service::Filter;
use crate::service::ServiceError;
use crate::service::export::Export;
use crate::service::subscribers::{AddSubscriber, SubscriberDetail, SubscriberSummary};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "subscribers.html")]
struct ListPage {
    ctx: Ctx,
    q: ListQuery,
    channels: Vec<Channel>,
    rows: Vec<SubscriberSummary>,
    total: i64,
    message: Option<(super::Tone, String)>,
    next_offset: Option<i64>,
}

#[derive(Template)]
#[template(path = "subscriber.html")]
struct ShowPage {
    ctx: Ctx,
    s: SubscriberDetail,
    /// Their conversations, by transport.
    threads: Vec<(crate::domain::Transport, crate::domain::ThreadId)>,
    error: Option<Problem>,
}

/// A subscriber's conversations, one per transport they wrote on.
async fn threads_of(
    state: &AppState,
    id: SubscriberId,
    s: &SubscriberDetail,
) -> Result<Vec<(crate::domain::Transport, crate::domain::ThreadId)>, WebError> {
    let mut out = Vec::new();
    for a in &s.summary.addresses {
        if let Some(t) = state.service.thread_of(id, a.transport).await? {
            out.push((a.transport, t));
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "subscriber_export.html")]
struct ExportPage {
    ctx: Ctx,
    e: Export,
}

#[derive(Template)]
#[template(path = "subscriber_form.html")]
struct FormPage {
    ctx: Ctx,
    channels: Vec<Channel>,
    f: AddForm,
    error: Option<Problem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub transport: String,
    #[serde(default)]
    pub offset: i64,
    /// Set after an erasure, to say it happened.
    #[serde(default)]
    pub erased: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<Filter, WebError> {
        let channel = match self.channel.as_str() {
            "" => None,
            c => Some(c.parse().map_err(|_| WebError::BadRequest(Problem::new("channel-unknown")))?),
        };
        let state = match self.state.as_str() {
            "" => None,
            s => Some(SubscriptionState::parse(s).map_err(|_| WebError::BadRequest(Problem::new("state-unknown")))?),
        };
        let transport = match self.transport.as_str() {
            "" => None,
            t => Some(Transport::parse(t).map_err(|e| WebError::BadRequest(e.0))?),
        };
        Ok(Filter { channel, state, transport })
    }
}

pub async fn list(state: web::Data<AppState>, me: Me, q: web::Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let q = q.into_inner();
    let ctx = Ctx::new(&me)?;
    let channels = state.service.channels().await?;
    let offset = q.offset.max(0);
    let (rows, total) = state.service.list_subscribers(q.filter()?, PAGE, offset).await?;
    let next_offset = (offset + PAGE < total).then_some(offset + PAGE);
    let message = q.erased.is_some().then(|| (super::Tone::Done, ctx.t.get("sub-erased")));
    ok(&ListPage { ctx, q, channels, rows, total, message, next_offset })
}

#[derive(Debug, Deserialize)]
pub struct SearchForm {
    /// A full phone number or Matrix id, looked up through the blind index. Posted, so it is never in a URL.
    q: String,
}

/// A hit redirects to the pseudonymous subscriber page; a miss shows the list with a message.
pub async fn search(state: web::Data<AppState>, me: Me, f: web::Form<SearchForm>) -> Result<HttpResponse, WebError> {
    let ctx = Ctx::new(&me)?;
    let (status, message) = match state.service.find_subscriber(&f.q).await {
        Ok(Some(id)) => return Ok(see_other(&format!("/subscribers/{id}"))),
        Ok(None) => (StatusCode::OK, (super::Tone::Missing, ctx.t.get("sub-not-found"))),
        Err(ServiceError::Invalid(m)) => (StatusCode::BAD_REQUEST, (super::Tone::Refused, ctx.problem(&m))),
        Err(e) => return Err(e.into()),
    };
    let channels = state.service.channels().await?;
    let (rows, total) = state.service.list_subscribers(Filter::default(), PAGE, 0).await?;
    let next_offset = (PAGE < total).then_some(PAGE);
    let page = ListPage { ctx, q: ListQuery::default(), channels, rows, total, message: Some(message), next_offset };
    render(status, &page)
}

pub async fn show(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    let s = state.service.subscriber_detail(id).await?;
    let threads = threads_of(&state, id, &s).await?;
    ok(&ShowPage { ctx: Ctx::new(&me)?, s, threads, error: None })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    pub transport: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub consent_note: String,
}

pub async fn new_form(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let f = AddForm { transport: "sms".into(), language: "de".into(), ..Default::default() };
    ok(&FormPage { ctx: Ctx::new(&me)?, channels: state.service.channels().await?, f, error: None })
}

pub async fn create(state: web::Data<AppState>, me: Me, f: web::Form<AddForm>) -> Result<HttpResponse, WebError> {
    let f = f.into_inner();
    let parsed = Transport::parse(&f.transport)
        .map_err(|e| e.0)
        .and_then(|t| f.channel.parse::<ChannelId>().map(|c| (t, c)).map_err(|_| Problem::new("channel-needed")));
    let error = match parsed {
        Err(m) => m,
        Ok((transport, channel)) => {
            let req = AddSubscriber {
                transport,
                address: f.address.clone(),
                language: f.language.clone(),
                channels: vec![channel],
                consent_note: f.consent_note.clone(),
            };
            match state.service.add_subscriber(&me.0.actor(), req).await {
                Ok(id) => return Ok(see_other(&format!("/subscribers/{id}"))),
                Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => m,
                Err(e) => return Err(e.into()),
            }
        }
    };
    // The address is not echoed back into the page.
    let f = AddForm { address: String::new(), ..f };
    let page = FormPage { ctx: Ctx::new(&me)?, channels: state.service.channels().await?, f, error: Some(error) };
    render(StatusCode::BAD_REQUEST, &page)
}

fn subscriber_id(id: &str) -> Result<SubscriberId, WebError> {
    id.parse().map_err(|_| WebError::NotFound)
}

/// The export as a readable page (audited).
pub async fn export_page(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let e = state.service.export_subscriber(&me.0.actor(), subscriber_id(&id)?, "page").await?;
    ok(&ExportPage { ctx: Ctx::new(&me)?, e })
}

/// The export as a JSON download (audited).
pub async fn export_json(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let id = subscriber_id(&id)?;
    let e = state.service.export_subscriber(&me.0.actor(), id, "json").await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"herold-export-{id}.json\""),
        ))
        .json(e))
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    language: String,
}

/// Changes the subscriber's language (`de` or `en`).
pub async fn set_language(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<String>,
    f: web::Form<LanguageForm>,
) -> Result<HttpResponse, WebError> {
    let id = subscriber_id(&id)?;
    state.service.set_subscriber_language(&me.0.actor(), id, &f.language).await?;
    Ok(see_other(&format!("/subscribers/{id}")))
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    /// The checkbox "I understand this cannot be undone".
    #[serde(default)]
    confirm: String,
}

/// Erases the subscriber after an explicit confirmation on the form.
pub async fn erase(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<String>,
    f: web::Form<EraseForm>,
) -> Result<HttpResponse, WebError> {
    let id = subscriber_id(&id)?;
    if f.confirm != "yes" {
        let s = state.service.subscriber_detail(id).await?;
        let threads = threads_of(&state, id, &s).await?;
        let mut page = ShowPage { ctx: Ctx::new(&me)?, s, threads, error: None };
        page.error = Some(Problem::new("sub-erase-tick"));
        return render(StatusCode::BAD_REQUEST, &page);
    }
    state.service.erase_subscriber(&me.0.actor(), id).await?;
    Ok(see_other("/subscribers?erased=1"))
}
