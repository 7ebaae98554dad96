//! Subscribers through the API: list (masked), get, find by address, add, export and erase.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, default_limit};
use crate::domain::{ChannelId, Problem, SubscriberId, SubscriptionState, Transport};
use crate::service::Filter;
use crate::service::export::Export;
use crate::service::subscribers::{AddSubscriber, SubscriberDetail, SubscriberSummary};
use crate::web::AppState;
use crate::web::api::openapi::ErrorBody;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriberQuery {
    channel: Option<ChannelId>,
    /// `pending`, `active`, `unsubscribed` or `expired`.
    state: Option<String>,
    transport: Option<Transport>,
    /// 1 to 1,000; 100 unless given.
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

/// A page of subscribers and how many there are in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberPage {
    total: i64,
    items: Vec<SubscriberSummary>,
}

/// The id of what was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    id: String,
}

/// Subscribers with masked addresses, newest first.
#[utoipa::path(get, path = "/api/v1/subscribers", tag = "subscribers", params(SubscriberQuery),
    responses((status = 200, body = SubscriberPage), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, q: web::Query<SubscriberQuery>) -> ApiResult {
    let q = q.into_inner();
    let state_filter = match q.state.as_deref().map(SubscriptionState::parse) {
        Some(Err(_)) => return Err(WebError::BadRequest(Problem::new("state-unknown")).into()),
        s => s.and_then(Result::ok),
    };
    let filter = Filter { channel: q.channel, state: state_filter, transport: q.transport };
    let (items, total) = state.service.list_subscribers(filter, q.limit.clamp(1, 1000), q.offset.max(0)).await?;
    Ok(HttpResponse::Ok().json(SubscriberPage { total, items }))
}

/// One subscriber: masked addresses, subscriptions and consent history.
#[utoipa::path(get, path = "/api/v1/subscribers/{id}", tag = "subscribers",
    params(("id" = String, Path, description = "16 hex digits")),
    responses((status = 200, body = SubscriberDetail), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.subscriber_detail(id).await?))
}

/// Adds a subscriber whose consent was collected elsewhere, with an import consent event (write scope).
#[utoipa::path(post, path = "/api/v1/subscribers", tag = "subscribers", request_body = AddSubscriber,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(state: web::Data<AppState>, me: Me, body: web::Json<AddSubscriber>) -> ApiResult {
    let id = state.service.add_subscriber(&me.0.actor(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(Created { id: id.to_string() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// A full phone number or Matrix id. In the body, never in the URL, so that no log or proxy sees it.
    address: String,
}

/// Finds the one subscriber with an address (404 when there is none).
#[utoipa::path(post, path = "/api/v1/subscribers/search", tag = "subscribers", request_body = SearchBody,
    responses((status = 200, body = SubscriberDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(state: web::Data<AppState>, body: web::Json<SearchBody>) -> ApiResult {
    let id = state.service.find_subscriber(&body.address).await?.ok_or(WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.subscriber_detail(id).await?))
}

/// Everything held about one subscriber, opened (write scope; audited): it shows full addresses.
#[utoipa::path(get, path = "/api/v1/subscribers/{id}/export", tag = "subscribers",
    params(("id" = String, Path, description = "16 hex digits")),
    responses((status = 200, body = Export), (status = 404, body = ErrorBody)))]
pub async fn export(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    Ok(HttpResponse::Ok().json(state.service.export_subscriber(&me.0.actor(), id, "api").await?))
}

/// Erases one subscriber (crypto-shredding; write scope; audited).
#[utoipa::path(delete, path = "/api/v1/subscribers/{id}", tag = "subscribers",
    params(("id" = String, Path, description = "16 hex digits")),
    responses((status = 204, description = "erased"), (status = 404, body = ErrorBody)))]
pub async fn erase(state: web::Data<AppState>, me: Me, id: web::Path<String>) -> ApiResult {
    let id: SubscriberId = id.parse().map_err(|_| WebError::NotFound)?;
    state.service.erase_subscriber(&me.0.actor(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}
