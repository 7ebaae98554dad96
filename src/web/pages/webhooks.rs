//! Webhooks to other systems (owners only): register one (the secret is shown once), its delivery
//! log, switch it on again after herold switched it off, remove it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, render, see_other};
use crate::domain::Problem;
use crate::domain::event::EventKind;
use crate::service::ServiceError;
use crate::service::event_hooks::{Endpoint, LogLine, NewWebhook};
use crate::web::AppState;
use crate::web::api::webhooks::LOG_LINES;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    ctx: Ctx,
    endpoints: Vec<Endpoint>,
    kinds: &'static [EventKind],
    created: Option<String>,
    error: Option<Problem>,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    ctx: Ctx,
    endpoint: Endpoint,
    log: Vec<LogLine>,
}

async fn page(
    state: &AppState,
    me: &Me,
    status: StatusCode,
    created: Option<String>,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    use strum::VariantArray;
    let endpoints = state.service.webhooks().await?;
    render(status, &WebhooksPage { ctx: Ctx::new(me)?, endpoints, kinds: EventKind::VARIANTS, created, error })
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    page(&state, &me, StatusCode::OK, None, None).await
}

/// The form: the URL and one checkbox per event kind (`event=subscriber.joined&event=…`).
pub async fn create(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let mut url = String::new();
    let mut events = Vec::new();
    for (k, v) in form.into_inner() {
        match k.as_str() {
            "url" => url = v,
            "event" => events.extend(v.parse::<EventKind>().ok()),
            _ => {}
        }
    }
    match state.service.create_webhook(&me.0.actor(), NewWebhook { url, events }).await {
        Ok((_, secret)) => page(&state, &me, StatusCode::OK, Some(secret.to_string()), None).await,
        Err(ServiceError::Invalid(m)) => page(&state, &me, StatusCode::BAD_REQUEST, None, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn show(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    let (endpoint, log) = state.service.webhook(*id, LOG_LINES).await?;
    render(StatusCode::OK, &WebhookPage { ctx: Ctx::new(&me)?, endpoint, log })
}

pub async fn enable(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    state.service.enable_webhook(&me.0.actor(), *id).await?;
    Ok(see_other(&format!("/webhooks/{}", *id)))
}

pub async fn remove(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    state.service.remove_webhook(&me.0.actor(), *id).await?;
    Ok(see_other("/webhooks"))
}
