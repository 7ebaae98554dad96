//! The JSON API's webhook routes (write scope): register, list, look at the delivery log, switch on
//! again, remove; and the inbox message an `inbox.message` event points to.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiResult;
use crate::service::conversation::InboxMessage;
use crate::service::event_hooks::{Endpoint, LogLine, NewWebhook};
use crate::web::AppState;
use crate::web::api::openapi::ErrorBody;
use crate::web::guard::Me;

/// Log lines an endpoint's page and its API answer show.
pub const LOG_LINES: i64 = 50;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    items: Vec<Endpoint>,
}

/// A new webhook and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    webhook: Endpoint,
    /// `whsec_` and the base64 key (Standard Webhooks).
    secret: String,
}

/// A webhook and its newest messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookLog {
    webhook: Endpoint,
    deliveries: Vec<LogLine>,
}

/// Every registered webhook.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = WebhookList)))]
pub async fn list(state: web::Data<AppState>) -> ApiResult {
    Ok(HttpResponse::Ok().json(WebhookList { items: state.service.webhooks().await? }))
}

/// Registers a webhook for the events named.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookCreated), (status = 422, body = ErrorBody)))]
pub async fn create(state: web::Data<AppState>, me: Me, body: web::Json<NewWebhook>) -> ApiResult {
    let (webhook, secret) = state.service.create_webhook(&me.0.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(WebhookCreated { webhook, secret: secret.to_string() }))
}

/// One webhook and its newest 50 messages.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookLog), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult {
    let (webhook, deliveries) = state.service.webhook(*id, LOG_LINES).await?;
    Ok(HttpResponse::Ok().json(WebhookLog { webhook, deliveries }))
}

/// Switches a webhook on again: what waited for it is sent at once.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204, description = "on"), (status = 404, body = ErrorBody)))]
pub async fn enable(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> ApiResult {
    state.service.enable_webhook(&me.0.actor(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a webhook and what waits for it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorBody)))]
pub async fn remove(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> ApiResult {
    state.service.remove_webhook(&me.0.actor(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An inbox message with its text (what an `inbox.message` event points to; 404 once erased).
#[utoipa::path(get, path = "/api/v1/inbox/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = InboxMessage), (status = 404, body = ErrorBody)))]
pub async fn inbox_message(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.inbox_message(*id).await?))
}
