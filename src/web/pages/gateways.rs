//! Gateways (owners only): the Matrix bot's state, and each SMS gateway with what to set up on its
//! side, such as the ready kannel.conf snippet (it holds the webhook secret, hence owners only), and a
//! test send through each SMS gateway and the bot.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, render, see_other};
use crate::domain::Transport;
use crate::service::ServiceError;
use crate::service::test_send::TestOutcome;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "gateways.html")]
struct GatewaysPage {
    ctx: Ctx,
    gateways: Vec<(String, crate::domain::hook::SetupHint)>,
    hook_base: String,
    /// Transports that report their own state (the Matrix bot).
    status: Vec<(String, Vec<(crate::domain::Message, crate::domain::Message)>)>,
    /// Whether each gateway and the bot answers.
    routes: Vec<(String, Transport, crate::domain::health::Health)>,
    /// Each SMS gateway with quotas and its use of them.
    quotas: Vec<(String, crate::domain::quota::Left)>,
    /// Secrets to show once (the Matrix recovery key): source, label, value.
    secrets: Vec<(String, String, String)>,
    /// Gateways offered for a test send: name, and whether it takes a Matrix id (else a number).
    testers: Vec<(String, bool)>,
    /// The outcome of a test send just made: whether it went, and what to say.
    tested: Option<(bool, String)>,
}

fn page(
    state: &AppState,
    me: &Me,
    status: StatusCode,
    tested: Option<(bool, String)>,
) -> Result<HttpResponse, WebError> {
    let gateways = state.service.gateway_setup();
    let hook_base = format!("{}/hooks/sms", state.public_url);
    let ctx = Ctx::new(me)?;
    let secrets =
        state.service.pending_secrets().into_iter().map(|(s, l, v)| (s, ctx.t.message(&l), v.to_string())).collect();
    let testers = state.service.testers().into_iter().map(|(n, t)| (n, t == Transport::Matrix)).collect();
    let transports = state.service.transport_status();
    let routes = state.service.route_health();
    let quotas = state.service.quotas_left();
    let page = GatewaysPage { ctx, gateways, hook_base, status: transports, routes, quotas, secrets, testers, tested };
    render(status, &page)
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    page(&state, &me, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct TestForm {
    to: String,
}

/// Sends one test message through the named gateway and shows how it went on the same page (the
/// address typed is not kept, not even in the form).
pub async fn test_send(
    state: web::Data<AppState>,
    me: Me,
    name: web::Path<String>,
    f: web::Form<TestForm>,
) -> Result<HttpResponse, WebError> {
    let ctx = Ctx::new(&me)?;
    let t = ctx.t;
    let (status, tested) = match state.service.test_send(&me.0.actor(), &name, &f.to).await {
        Ok(TestOutcome::Sent(id)) => {
            (StatusCode::OK, (true, t.with2("gw-test-sent", "gateway", name.as_str(), "id", id)))
        }
        Ok(TestOutcome::Failed(why)) => (
            StatusCode::BAD_GATEWAY,
            (false, t.with2("gw-test-failed", "gateway", name.as_str(), "reason", ctx.reason(&why))),
        ),
        Err(ServiceError::Invalid(m)) => (
            StatusCode::BAD_REQUEST,
            (false, t.with2("gw-test-failed", "gateway", name.as_str(), "reason", ctx.problem(&m))),
        ),
        Err(e) => return Err(e.into()),
    };
    page(&state, &me, status, Some(tested))
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
