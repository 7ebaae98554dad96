//! The dashboard: subscribers per channel and transport.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok};
use crate::service::channels::ChannelCounts;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    rows: Vec<ChannelCounts>,
    transports: Vec<&'static str>,
    total_active: i64,
    total_pending: i64,
}

pub async fn show(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let rows = state.service.channel_counts().await?;
    let total_active = rows.iter().map(|r| r.active_total).sum();
    let total_pending = rows.iter().map(|r| r.pending_total).sum();
    let transports = crate::domain::Transport::ALL.iter().map(|t| t.as_str()).collect();
    ok(&Dashboard { ctx: Ctx::new(&me)?, rows, transports, total_active, total_pending })
}
