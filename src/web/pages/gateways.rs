//! SMS gateways (owners only): each configured gateway and what to set up on its side, such as the
//! ready kannel.conf snippet (it holds the webhook secret, hence owners only).

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
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let gateways = state.service.gateway_setup();
    let hook_base = format!("{}/hooks/sms", state.public_url);
    render(StatusCode::OK, &GatewaysPage { ctx: Ctx::new(&me)?, gateways, hook_base })
}
