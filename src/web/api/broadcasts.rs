//! Broadcasts through the API: create (with an `Idempotency-Key`), list, get with counts and
//! reasons, pause, resume, cancel (send scope for the changes).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, default_limit, rfc3339};
use crate::domain::{BroadcastId, BroadcastState, ChannelId, ChannelKind, DeliveryState, Problem, Reason};
use crate::service::auth::Principal;
use crate::service::broadcasts::{Compose, ComposeTranslation};
use crate::web::AppState;
use crate::web::api::openapi::ErrorBody;
use crate::web::error::{ApiError, WebError};
use crate::web::guard::Me;

/// A broadcast as another system posts it (a delay notice, a cancelled match).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBroadcast {
    #[serde(default = "broadcast_kind")]
    kind: ChannelKind,
    #[serde(default)]
    title: String,
    body: String,
    channels: Vec<ChannelId>,
    /// When to send, RFC 3339 with its offset (`2026-12-24T18:00:00+01:00`); absent: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    send_at: Option<time::OffsetDateTime>,
    /// Nothing is delivered after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    deadline: Option<time::OffsetDateTime>,
    /// A version in a second language (`{"lang": "en", "title", "body"}`) for the subscribers of that
    /// language; everyone else gets `body`.
    #[serde(default)]
    translation: Option<ComposeTranslation>,
}

fn broadcast_kind() -> ChannelKind {
    ChannelKind::Broadcast
}

/// Creates a broadcast, to send now or at `send_at`. With an `Idempotency-Key` header, a repeat of the
/// same key by the same token answers with the broadcast the first request made (200) instead of
/// making another (201). The frequency promise applies as in the UI, without the override.
#[utoipa::path(post, path = "/api/v1/broadcasts", tag = "broadcasts", request_body = NewBroadcast,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 64 characters, per token")),
    responses((status = 201, body = BroadcastReport), (status = 200, description = "a retry", body = BroadcastReport),
        (status = 422, description = "refused, e.g. `frequency-promise-reached`", body = ErrorBody)))]
pub async fn create(state: web::Data<AppState>, me: Me, req: HttpRequest, body: web::Json<NewBroadcast>) -> ApiResult {
    let b = body.into_inner();
    let key = match req.headers().get("idempotency-key") {
        None => crate::service::auth::random_token(16),
        Some(v) => v
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 64)
            .ok_or(WebError::BadRequest(Problem::new("idempotency-key-form")))?
            .to_string(),
    };
    // Keys are the token's own: two integrations that both count from 1 never meet.
    let by = match &me.0 {
        Principal::Token(t) => t.id,
        _ => 0,
    };
    let compose = Compose {
        kind: b.kind,
        title: b.title,
        body: b.body,
        channels: b.channels,
        send_at: b.send_at.map(|t| t.unix_timestamp()),
        deadline: b.deadline.map(|t| t.unix_timestamp()),
        override_reason: None,
        idempotency_key: format!("api:{by}:{key}"),
        translation: b.translation,
    };
    let (channels, text) = (compose.channels.clone(), compose.body.trim().to_string());
    let (created, new) = state.service.create_broadcast(&me.0.actor(), compose).await?;
    // A key used again for another text or other channels is a mistake in the caller, not a retry.
    let mut asked = channels;
    asked.sort();
    asked.dedup();
    let mut made = created.channels.clone();
    made.sort();
    if !new && (created.body != text || made != asked) {
        return Err(WebError::BadRequest(Problem::new("idempotency-key-reused")).into());
    }
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(report(&state, created.id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 1,000; 100 unless given.
    #[serde(default = "default_limit")]
    limit: i64,
}

/// The newest broadcasts, newest first.
#[utoipa::path(get, path = "/api/v1/broadcasts", tag = "broadcasts", params(ListQuery),
    responses((status = 200, body = Vec<ApiBroadcast>), (status = 400, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult {
    let list = state.service.broadcasts(q.limit.clamp(1, 1000)).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(summary).collect::<Vec<_>>()))
}

/// One broadcast: its state, counts per state and per transport, and why deliveries failed or wait.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}", tag = "broadcasts", params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastReport), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<BroadcastId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

/// Pauses a scheduled or sending broadcast.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/pause", tag = "broadcasts", params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastReport), (status = 404, body = ErrorBody),
        (status = 409, description = "its state does not allow it", body = ErrorBody)))]
pub async fn pause(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.pause_broadcast(&me.0.actor(), *id, Reason::PausedByApi).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

/// Resumes a paused broadcast.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/resume", tag = "broadcasts", params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastReport), (status = 404, body = ErrorBody),
        (status = 409, description = "its state does not allow it", body = ErrorBody)))]
pub async fn resume(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.resume_broadcast(&me.0.actor(), *id).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

/// Cancels a broadcast: nothing more is sent.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/cancel", tag = "broadcasts", params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastReport), (status = 404, body = ErrorBody),
        (status = 409, description = "its state does not allow it", body = ErrorBody)))]
pub async fn cancel(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.cancel_broadcast(&me.0.actor(), *id).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

/// A reason as the API gives it: its code and arguments, and the English message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReason {
    #[serde(flatten)]
    reason: Reason,
    /// In English, for people reading logs.
    message: String,
}

impl From<&Reason> for ApiReason {
    fn from(r: &Reason) -> Self {
        Self { reason: r.clone(), message: r.to_string() }
    }
}

/// A broadcast's deliveries by where they are.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    total: i64,
    sent: i64,
    delivered: i64,
    failed: i64,
    cancelled: i64,
    queued: i64,
}

/// A broadcast as listed. Times are RFC 3339 in UTC.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBroadcast {
    id: BroadcastId,
    kind: ChannelKind,
    title: String,
    body: String,
    channels: Vec<ChannelId>,
    state: BroadcastState,
    pause_reason: Option<ApiReason>,
    send_at: Option<String>,
    deadline: Option<String>,
    created_at: Option<String>,
    finished_at: Option<String>,
    counts: Counts,
}

/// Deliveries in one state for one reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCount {
    state: DeliveryState,
    reason: ApiReason,
    count: i64,
}

/// Deliveries held back until a time (a rate limit, a gateway that is down).
#[derive(Debug, Serialize, ToSchema)]
pub struct Waiting {
    reason: ApiReason,
    until: Option<String>,
}

/// One broadcast in full: counts per transport and delivery state, and why deliveries failed or wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastReport {
    #[serde(flatten)]
    broadcast: ApiBroadcast,
    /// Deliveries per transport (`sms`, …) and delivery state (`queued`, `sent`, …).
    per_transport: BTreeMap<String, BTreeMap<String, i64>>,
    reasons: Vec<ReasonCount>,
    waiting: Option<Waiting>,
}

fn summary(b: &crate::service::Broadcast) -> ApiBroadcast {
    ApiBroadcast {
        id: b.id,
        kind: b.kind,
        title: b.title.clone(),
        body: b.body.clone(),
        channels: b.channels.clone(),
        state: b.state,
        pause_reason: b.pause_reason.as_ref().map(ApiReason::from),
        send_at: rfc3339(b.send_at),
        deadline: b.deadline.and_then(rfc3339),
        created_at: rfc3339(b.created_at),
        finished_at: b.finished_at.and_then(rfc3339),
        counts: Counts {
            total: b.total,
            sent: b.sent,
            delivered: b.delivered,
            failed: b.failed,
            cancelled: b.cancelled,
            queued: (b.total - b.sent - b.failed - b.cancelled).max(0),
        },
    }
}

async fn report(state: &AppState, id: BroadcastId) -> Result<BroadcastReport, ApiError> {
    let p = state.service.progress(id).await?;
    let rows = state.service.per_transport(id).await?;
    let mut per_transport: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (transport, delivery_state, n) in rows {
        per_transport.entry(transport.as_str().into()).or_default().insert(delivery_state.as_str().into(), n);
    }
    Ok(BroadcastReport {
        broadcast: summary(&p.broadcast),
        per_transport,
        reasons: p.reasons.iter().map(|(s, r, n)| ReasonCount { state: *s, reason: r.into(), count: *n }).collect(),
        waiting: p.waiting.map(|w| Waiting { reason: (&w.reason).into(), until: rfc3339(w.until) }),
    })
}
