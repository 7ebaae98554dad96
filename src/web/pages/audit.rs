//! The audit log (owners only): every admin action, newest first, and whether its chain is intact.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok};
use crate::domain::audit::AuditEvent;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<AuditEvent>,
    total: i64,
    offset: i64,
    next_offset: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Query {
    #[serde(default)]
    offset: i64,
}

pub async fn list(state: web::Data<AppState>, me: Me, q: web::Query<Query>) -> Result<HttpResponse, WebError> {
    let offset = q.offset.max(0);
    let (rows, total) = state.service.audit_log(PAGE, offset).await?;
    let next_offset = (offset + PAGE < total).then_some(offset + PAGE);
    ok(&AuditPage { ctx: Ctx::new(&me)?, rows, total, offset, next_offset })
}
