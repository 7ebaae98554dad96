//! The admin inbox: messages that were not commands, each with a reply form (editors) that answers
//! over the same transport.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, render};
use crate::service::ServiceError;
use crate::service::conversation::InboxMessage;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    ctx: Ctx,
    messages: Vec<InboxMessage>,
    total: i64,
    notice: Option<String>,
    error: Option<Problem>,
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    replied: Option<String>,
}

async fn page(
    state: &AppState,
    me: &Me,
    status: StatusCode,
    notice: Option<String>,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let (messages, total) = state.service.inbox(100, 0).await?;
    render(status, &InboxPage { ctx: Ctx::new(me)?, messages, total, notice, error })
}

pub async fn list(state: web::Data<AppState>, me: Me, q: web::Query<InboxQuery>) -> Result<HttpResponse, WebError> {
    let notice = q.replied.is_some().then(|| Ctx::new(&me).map(|c| c.t.get("in-replied"))).transpose()?;
    page(&state, &me, StatusCode::OK, notice, None).await
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    text: String,
}

pub async fn reply(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<i64>,
    f: web::Form<ReplyForm>,
) -> Result<HttpResponse, WebError> {
    match state.service.reply_to_inbox(&me.0.actor(), *id, &f.text).await {
        Ok(()) => Ok(super::see_other("/inbox?replied=1")),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            page(&state, &me, StatusCode::BAD_REQUEST, None, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}
