//! The JSON API's webhook routes (write scope): register, list, look at the delivery log, switch on
//! again, remove; and the inbox message an `inbox.message` event points to.

use actix_web::{HttpResponse, web};

use super::AppState;
use super::error::ApiError;
use super::guard::Me;
use crate::service::event_hooks::NewWebhook;

type ApiResult = Result<HttpResponse, ApiError>;

/// Log lines an endpoint's page and its API answer show.
pub const LOG_LINES: i64 = 50;

pub async fn list(state: web::Data<AppState>) -> ApiResult {
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": state.service.webhooks().await? })))
}

pub async fn create(state: web::Data<AppState>, me: Me, body: web::Json<NewWebhook>) -> ApiResult {
    let (webhook, secret) = state.service.create_webhook(&me.0.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "webhook": webhook, "secret": secret.as_str() })))
}

pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult {
    let (webhook, deliveries) = state.service.webhook(*id, LOG_LINES).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "webhook": webhook, "deliveries": deliveries })))
}

pub async fn enable(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> ApiResult {
    state.service.enable_webhook(&me.0.actor(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn remove(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> ApiResult {
    state.service.remove_webhook(&me.0.actor(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn inbox_message(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.inbox_message(*id).await?))
}
