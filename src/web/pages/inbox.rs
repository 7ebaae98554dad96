//! Conversations: the list (open, mine, done; newest activity first, in pages), one conversation with
//! its messages and answers and their authors, a reply over the same transport, taking it, marking it
//! done or open again; and the open count the navigation and the dashboard show live.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, render, see_other};
use crate::domain::{ThreadId, ThreadState};
use crate::service::ServiceError;
use crate::service::threads::{Filter, Thread, ThreadView};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

/// Conversations per page of the list.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "inbox.html")]
struct ListPage {
    ctx: Ctx,
    threads: Vec<Thread>,
    total: i64,
    show: String,
    page: i64,
    pages: i64,
    /// The team's Matrix room, and whether there is a bot to make one.
    team: Option<crate::service::rooms::RoomInfo>,
    bot: bool,
    error: Option<Problem>,
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage {
    ctx: Ctx,
    v: ThreadView,
    /// The names of keyword answers by id, for the authors of their answers.
    keywords: Vec<(i64, String)>,
    me: i64,
    notice: Option<String>,
    error: Option<Problem>,
}

impl ListPage {
    /// The subscriber's pseudonymous id.
    fn who(&self, th: &Thread) -> String {
        crate::domain::SubscriberId(th.subscriber_id).to_string()
    }
}

impl ThreadPage {
    /// This admin has taken the conversation.
    fn mine(&self) -> bool {
        self.v.thread.assigned_to.as_ref().is_some_and(|a| a.0 == self.me)
    }

    /// Who wrote a message, as the page shows it.
    fn author(&self, author: &Option<String>) -> String {
        let t = self.ctx.t;
        match author.as_deref() {
            None => t.get("in-them"),
            Some("herold") => "herold".into(),
            Some(a) => match a.strip_prefix("keyword:").and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => match self.keywords.iter().find(|(k, _)| *k == id) {
                    Some((_, word)) => t.with("in-keyword-answer", "keyword", word.as_str()),
                    None => t.get("in-keyword-answer-gone"),
                },
                None => t.actor(a),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    page: i64,
}

pub async fn list(state: web::Data<AppState>, me: Me, q: web::Query<ListQuery>) -> Result<HttpResponse, WebError> {
    list_page(&state, &me, &q, StatusCode::OK, None).await
}

async fn list_page(
    state: &AppState,
    me: &Me,
    q: &ListQuery,
    status: StatusCode,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let admin = me.admin()?.id;
    let (filter, show) = match q.show.as_str() {
        "mine" => (Filter::Mine(admin), "mine"),
        "done" => (Filter::Done, "done"),
        _ => (Filter::Open, "open"),
    };
    let page = q.page.max(0);
    let (threads, total) = state.service.threads(filter, PAGE, page * PAGE).await?;
    let pages = (total + PAGE - 1) / PAGE;
    let (team, bot) = (state.service.team_room().await?, state.service.has_matrix_bot());
    let p = ListPage { ctx: Ctx::new(me)?, threads, total, show: show.into(), page, pages, team, bot, error };
    render(status, &p)
}

#[derive(Debug, Deserialize)]
pub struct TeamForm {
    /// Matrix ids, one per line.
    #[serde(default)]
    invite: String,
}

/// An owner makes the team's room: the bot creates it and invites the ids typed (kept nowhere).
pub async fn create_team_room(
    state: web::Data<AppState>,
    me: Me,
    f: web::Form<TeamForm>,
) -> Result<HttpResponse, WebError> {
    match state.service.create_team_room(&me.0.actor(), &f.invite).await {
        Ok(_) => Ok(see_other("/inbox")),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            let q = ListQuery { show: String::new(), page: 0 };
            list_page(&state, &me, &q, StatusCode::BAD_REQUEST, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn drop_team_room(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    state.service.drop_team_room(&me.0.actor()).await?;
    Ok(see_other("/inbox"))
}

/// The number of open conversations, for the navigation's and the dashboard's live count.
pub async fn open_count(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let n = state.service.open_threads().await?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(n.to_string()))
}

async fn thread_page(
    state: &AppState,
    me: &Me,
    id: ThreadId,
    status: StatusCode,
    notice: Option<String>,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let v = state.service.thread(id).await?;
    let keywords = state.service.keyword_answers().await?.into_iter().map(|a| (a.id, a.answer.keyword)).collect();
    let page = ThreadPage { ctx: Ctx::new(me)?, v, keywords, me: me.admin()?.id, notice, error };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    replied: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ThreadId>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, WebError> {
    let notice = q.replied.is_some().then(|| Ctx::new(&me).map(|c| c.t.get("in-replied"))).transpose()?;
    thread_page(&state, &me, *id, StatusCode::OK, notice, None).await
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    text: String,
}

pub async fn reply(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ThreadId>,
    f: web::Form<ReplyForm>,
) -> Result<HttpResponse, WebError> {
    match state.service.reply_in_thread(&me.0.actor(), *id, &f.text).await {
        Ok(()) => Ok(see_other(&format!("/inbox/{id}?replied=1"))),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            thread_page(&state, &me, *id, StatusCode::BAD_REQUEST, None, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    /// `me` takes it; anything else gives it back.
    #[serde(default)]
    to: String,
}

pub async fn assign(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ThreadId>,
    f: web::Form<AssignForm>,
) -> Result<HttpResponse, WebError> {
    let to = (f.to == "me").then_some(me.admin()?.id);
    state.service.assign_thread(&me.0.actor(), *id, to).await?;
    Ok(see_other(&format!("/inbox/{id}")))
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    state: String,
}

pub async fn set_state(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ThreadId>,
    f: web::Form<StateForm>,
) -> Result<HttpResponse, WebError> {
    let to = ThreadState::parse(&f.state).map_err(|e| WebError::from(ServiceError::Invalid(e.0)))?;
    state.service.set_thread_state(&me.0.actor(), *id, to).await?;
    Ok(see_other(&format!("/inbox/{id}")))
}
