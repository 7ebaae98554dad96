//! The dashboard: subscribers per channel and transport, their growth as a chart, recent broadcasts
//! with progress, and the gateways' and the bot's health.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok};
use crate::service::Broadcast;
use crate::service::channels::ChannelCounts;
use crate::web::AppState;
use crate::web::chart::{self, COLORS, Series};
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    rows: Vec<ChannelCounts>,
    transports: Vec<crate::domain::Transport>,
    total_active: i64,
    total_pending: i64,
    /// The growth chart (SVG of numbers and dates only) and its legend: channel name and colour.
    growth: String,
    legend: Vec<(String, &'static str)>,
    recent: Vec<Broadcast>,
    /// Transports that report their state (the Matrix bot): name and its first lines.
    /// Each SMS gateway and the bot: name, transport, whether it answers.
    routes: Vec<(String, crate::domain::Transport, crate::domain::health::Health)>,
    /// Each SMS gateway with quotas and its use of them.
    quotas: Vec<(String, crate::domain::quota::Left)>,
    csp_violations: u64,
    /// Webhooks herold switched off after a day of failures (owners are told).
    webhooks_off: usize,
    /// Drafts waiting for an owner's approval.
    drafts_waiting: i64,
    /// `privacy.controller` is not set: the privacy notices do not say who is responsible.
    no_controller: bool,
}

pub async fn show(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let ctx = Ctx::new(&me)?;
    let rows = state.service.channel_counts().await?;
    let total_active = rows.iter().map(|r| r.active_total).sum();
    let total_pending = rows.iter().map(|r| r.pending_total).sum();
    let transports = crate::domain::Transport::ALL.to_vec();
    let growth = state.service.channel_growth(30).await?;
    let legend =
        growth.iter().enumerate().map(|(i, (c, _))| (c.draft.name.clone(), COLORS[i % COLORS.len()])).collect();
    let series: Vec<Series> = growth
        .into_iter()
        .enumerate()
        .map(|(i, (_, points))| Series { points, color: COLORS[i % COLORS.len()] })
        .collect();
    let growth = chart::lines(&series, &ctx.t.get("dash-growth"), |day| ctx.zone.day(day * 86_400 + 43_200));
    let recent = state.service.broadcasts(5).await?;
    let routes = state.service.route_health();
    let csp_violations = state.service.csp_violations();
    let webhooks_off = state.service.webhooks().await?.iter().filter(|e| !e.enabled).count();
    let drafts_waiting = state.service.drafts_waiting().await?;
    ok(&Dashboard {
        ctx,
        rows,
        transports,
        total_active,
        total_pending,
        growth,
        legend,
        recent,
        routes,
        quotas: state.service.quotas_left(),
        csp_violations,
        webhooks_off,
        drafts_waiting,
        no_controller: state.service.settings().notice.controller.trim().is_empty(),
    })
}
