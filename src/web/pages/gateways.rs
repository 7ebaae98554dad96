//! Gateways (owners only): the Matrix bot's state, and each SMS gateway with what to set up on its
//! side, such as the ready kannel.conf snippet (it holds the webhook secret, hence owners only).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, render, see_other};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "gateways.html")]
struct GatewaysPage {
    ctx: Ctx,
    gateways: Vec<(String, String)>,
    hook_base: String,
    /// Transports that report their own state (the Matrix bot).
    status: Vec<(String, Vec<(String, String)>)>,
    /// Secrets to show once (the Matrix recovery key): source, label, value.
    secrets: Vec<(String, String, String)>,
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let gateways = state.service.gateway_setup();
    let hook_base = format!("{}/hooks/sms", state.public_url);
    let status = state.service.transport_status();
    let secrets = state.service.pending_secrets().into_iter().map(|(s, l, v)| (s, l, v.to_string())).collect();
    render(StatusCode::OK, &GatewaysPage { ctx: Ctx::new(&me)?, gateways, hook_base, status, secrets })
}

/// The owner has stored a transport's pending secret elsewhere: herold forgets it.
pub async fn secret_stored(
    state: web::Data<AppState>,
    me: Me,
    source: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    state.service.secret_stored(&me.0.actor(), &source).await?;
    Ok(see_other("/gateways"))
}
