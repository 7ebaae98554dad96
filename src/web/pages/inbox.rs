//! The admin inbox: messages that were not commands.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok};
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
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let (messages, total) = state.service.inbox(100, 0).await?;
    ok(&InboxPage { ctx: Ctx::new(&me)?, messages, total })
}
