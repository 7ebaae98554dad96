//! Inbound webhooks of the SMS gateways: the request goes to the service as it came (the service
//! authenticates it with the gateway's secret or signature and stores what it says); 2xx only once
//! it is stored, 503 when storage failed so that the gateway tries again. Answers name no values.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};

use super::AppState;
use crate::domain::hook::HookRequest;
use crate::service::gateways::HookFailure;

/// The largest webhook body taken (Twilio and the Android app send well under 8 KiB).
pub const MAX_BODY: usize = 64 * 1024;

pub async fn sms(
    state: Data<AppState>,
    path: Path<(String, String)>,
    req: HttpRequest,
    payload: Payload,
) -> HttpResponse {
    let (gateway, endpoint) = path.into_inner();
    let declared = req.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 64 KiB");
    }
    let body = match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 64 KiB"),
        Err(_) => return plain(StatusCode::BAD_REQUEST, "the body could not be read"),
    };
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let hook = HookRequest {
        method: req.method().as_str().to_string(),
        url: format!("{}{path_and_query}", state.public_url),
        endpoint,
        query: req.query_string().to_string(),
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
        now: state.service.now(),
    };
    match state.service.gateway_hook(&gateway, hook).await {
        Ok(answer) => HttpResponse::Ok().content_type(answer.content_type).body(answer.body),
        Err(e) => {
            let status = match &e {
                HookFailure::UnknownGateway => StatusCode::NOT_FOUND,
                HookFailure::Refused(crate::domain::hook::HookError::Unauthorized(_)) => StatusCode::UNAUTHORIZED,
                HookFailure::Refused(_) => StatusCode::BAD_REQUEST,
                HookFailure::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                HookFailure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            };
            tracing::info!(gateway, status = status.as_u16(), reason = %e, "webhook refused");
            plain(status, &e.to_string())
        }
    }
}

fn plain(status: StatusCode, msg: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(msg.to_string())
}
