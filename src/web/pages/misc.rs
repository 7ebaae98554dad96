//! The health check.

use actix_web::{HttpResponse, web};

use crate::web::AppState;

/// 200 when the database answers, 503 otherwise; no details.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.service.admin_count().await {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable().content_type("text/plain").body("unavailable"),
    }
}
