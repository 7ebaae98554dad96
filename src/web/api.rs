//! The JSON API under `/api/v1`, authenticated by API tokens (read, send or write scope).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, WebError};
use super::guard::Me;
use crate::domain::{
    BroadcastId, ChannelDraft, ChannelId, ChannelKind, Problem, Reason, SubscriberId, SubscriptionState, Transport,
};
use crate::service::Filter;
use crate::service::auth::Principal;
use crate::service::broadcasts::Compose;
use crate::service::import::ImportRequest;
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

/// A broadcast as another system posts it (a delay notice, a cancelled match).
#[derive(Debug, Deserialize)]
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
    send_at: Option<time::OffsetDateTime>,
    /// Nothing is delivered after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    deadline: Option<time::OffsetDateTime>,
}

fn broadcast_kind() -> ChannelKind {
    ChannelKind::Broadcast
}

/// Creates a broadcast, to send now or at `send_at`. With an `Idempotency-Key` header, a repeat of the
/// same key by the same token answers with the broadcast the first request made (200) instead of
/// making another (201). The frequency promise applies as in the UI, without the override.
pub async fn broadcasts_create(
    state: web::Data<AppState>,
    me: Me,
    req: HttpRequest,
    body: web::Json<NewBroadcast>,
) -> ApiResult {
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
        override_frequency: false,
        idempotency_key: format!("api:{by}:{key}"),
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default = "default_limit")]
    limit: i64,
}

/// The newest broadcasts, newest first.
pub async fn broadcasts_list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult {
    let list = state.service.broadcasts(q.limit.clamp(1, 1000)).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(summary).collect::<Vec<_>>()))
}

/// One broadcast: its state, counts per state and per transport, and why deliveries failed or wait.
pub async fn broadcasts_get(state: web::Data<AppState>, id: web::Path<BroadcastId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

pub async fn broadcasts_pause(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.pause_broadcast(&me.0.actor(), *id, Reason::PausedByApi).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

pub async fn broadcasts_resume(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.resume_broadcast(&me.0.actor(), *id).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

pub async fn broadcasts_cancel(state: web::Data<AppState>, me: Me, id: web::Path<BroadcastId>) -> ApiResult {
    state.service.cancel_broadcast(&me.0.actor(), *id).await?;
    Ok(HttpResponse::Ok().json(report(&state, *id).await?))
}

/// A reason as the API gives it: its code and arguments, and the English message.
fn reason_json(r: &Reason) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("message".into(), r.to_string().into());
    }
    v
}

fn rfc3339(ts: i64) -> Option<String> {
    Some(crate::domain::clock::rfc3339(ts)).filter(|s| !s.is_empty())
}

fn summary(b: &crate::service::Broadcast) -> serde_json::Value {
    serde_json::json!({
        "id": b.id,
        "kind": b.kind,
        "title": b.title,
        "body": b.body,
        "channels": b.channels,
        "state": b.state.as_str(),
        "pause_reason": b.pause_reason.as_ref().map(reason_json),
        "send_at": rfc3339(b.send_at),
        "deadline": b.deadline.and_then(rfc3339),
        "created_at": rfc3339(b.created_at),
        "finished_at": b.finished_at.and_then(rfc3339),
        "counts": {
            "total": b.total,
            "sent": b.sent,
            "delivered": b.delivered,
            "failed": b.failed,
            "cancelled": b.cancelled,
            "queued": (b.total - b.sent - b.failed - b.cancelled).max(0),
        },
    })
}

async fn report(state: &AppState, id: BroadcastId) -> Result<serde_json::Value, ApiError> {
    let p = state.service.progress(id).await?;
    let rows = state.service.per_transport(id).await?;
    let mut v = summary(&p.broadcast);
    let mut transports = serde_json::Map::new();
    for (transport, delivery_state, n) in rows {
        let entry = transports.entry(transport.as_str()).or_insert_with(|| serde_json::json!({}));
        entry[delivery_state.as_str()] = n.into();
    }
    v["per_transport"] = transports.into();
    v["reasons"] = p
        .reasons
        .iter()
        .map(|(s, r, n)| serde_json::json!({ "state": s.as_str(), "reason": reason_json(r), "count": n }))
        .collect();
    v["waiting"] =
        p.waiting.map(|w| serde_json::json!({ "reason": reason_json(&w.reason), "until": rfc3339(w.until) })).into();
    Ok(v)
}

/// Reads and checks a member list without writing anything: what would be added, and which lines
/// cannot be (with their line numbers).
pub async fn import_preview(state: web::Data<AppState>, body: web::Json<ImportRequest>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.import_preview(body.into_inner()).await?))
}

/// Adds the good rows of a member list in one transaction, with an import consent event each.
pub async fn import_commit(state: web::Data<AppState>, me: Me, body: web::Json<ImportRequest>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.import_commit(&me.0.actor(), body.into_inner()).await?))
}
