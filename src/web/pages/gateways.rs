//! Gateways (owners only): the Matrix bot's state, and each SMS gateway with what to set up on its
//! side, such as the ready kannel.conf snippet (it holds the webhook secret, hence owners only).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, render};
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
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let gateways = state.service.gateway_setup();
    let hook_base = format!("{}/hooks/sms", state.public_url);
    let status = state.service.transport_status();
    render(StatusCode::OK, &GatewaysPage { ctx: Ctx::new(&me)?, gateways, hook_base, status })
}
