//! Channels through the API: list with their subscriber counts, get, create and change.

use actix_web::{HttpResponse, web};

use super::ApiResult;
use crate::domain::{Channel, ChannelDraft, ChannelId};
use crate::service::channels::ChannelCounts;
use crate::web::AppState;
use crate::web::api::openapi::ErrorBody;
use crate::web::guard::Me;

/// Every channel with its active subscribers per transport.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<ChannelCounts>), (status = 401, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.channel_counts().await?))
}

/// One channel.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<ChannelId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.channel(*id).await?))
}

/// Creates a channel (write scope).
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = ChannelDraft,
    responses((status = 201, body = Channel), (status = 409, description = "the keyword is taken", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(state: web::Data<AppState>, me: Me, body: web::Json<ChannelDraft>) -> ApiResult {
    Ok(HttpResponse::Created().json(state.service.create_channel(&me.0.actor(), body.into_inner()).await?))
}

/// Changes a channel (write scope); a change of what subscribers are shown is a new wording version.
#[utoipa::path(put, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = i64, Path)),
    request_body = ChannelDraft,
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ChannelId>,
    body: web::Json<ChannelDraft>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.update_channel(&me.0.actor(), *id, body.into_inner()).await?))
}
