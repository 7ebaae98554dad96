//! The JSON API under `/api/v1`, authenticated by API tokens (read or write scope).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, WebError};
use super::guard::Me;
use crate::domain::{ChannelDraft, ChannelId, SubscriberId, SubscriptionState, Transport};
use crate::service::Filter;
use crate::service::subscribers::AddSubscriber;

type ApiResult = Result<HttpResponse, ApiError>;

pub async fn channels_list(state: web::Data<AppState>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.channel_counts().await?))
}

pub async fn channels_get(state: web::Data<AppState>, id: web::Path<ChannelId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.channel(*id).await?))
}

pub async fn channels_create(state: web::Data<AppState>, me: Me, body: web::Json<ChannelDraft>) -> ApiResult {
    Ok(HttpResponse::Created().json(state.service.create_channel(&me.0.actor(), body.into_inner()).await?))
}

pub async fn channels_update(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ChannelId>,
    body: web::Json<ChannelDraft>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.update_channel(&me.0.actor(), *id, body.into_inner()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberQuery {
    channel: Option<ChannelId>,
    state: Option<String>,
    transport: Option<Transport>,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    100
}

pub async fn subscribers_list(state: web::Data<AppState>, q: web::Query<SubscriberQuery>) -> ApiResult {
    let q = q.into_inner();
    let state_filter = match q.state.as_deref().map(SubscriptionState::parse) {
        Some(Err(_)) => {
            return Err(WebError::BadRequest(crate::domain::Problem::new("state-unknown")).into());
        }
        s => s.and_then(Result::ok),
    };
    let filter = Filter { channel: q.channel, state: state_filter, transport: q.transport };
    let (items, total) = state.service.list_subscribers(filter, q.limit.clamp(1, 1000), q.offset.max(0)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "total": total, "items": items })))
}

pub async fn subscribers_get(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.subscriber_detail(id).await?))
}

pub async fn subscribers_create(state: web::Data<AppState>, me: Me, body: web::Json<AddSubscriber>) -> ApiResult {
    let id = state.service.add_subscriber(&me.0.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id.to_string() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// A full phone number or Matrix id. In the body, never in the URL, so that no log or proxy sees it.
    address: String,
}

/// Finds the one subscriber with an address (404 when there is none).
pub async fn subscribers_search(state: web::Data<AppState>, body: web::Json<SearchBody>) -> ApiResult {
    let id = state.service.find_subscriber(&body.address).await?.ok_or(WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.subscriber_detail(id).await?))
}

/// Everything held about one subscriber (audited). Needs the write scope: it shows full addresses.
pub async fn subscribers_export(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.export_subscriber(&me.0.actor(), id, "api").await?))
}

/// Erases one subscriber (crypto-shredding; audited). 204 when done, 404 when there is no such subscriber.
pub async fn subscribers_erase(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    state.service.erase_subscriber(&me.0.actor(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}
