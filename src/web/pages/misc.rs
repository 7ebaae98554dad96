//! The health check and the browsers' Content-Security-Policy reports.

use actix_web::{HttpResponse, web};

use crate::web::AppState;

/// Any address herold does not serve: its own "not found" page in the browser's language (JSON
/// under `/api/`), not an empty answer.
pub async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let e = crate::web::error::WebError::NotFound;
    if req.path().starts_with("/api/") {
        return crate::web::error::ApiError(e).error_response();
    }
    e.page(crate::web::guard::browser_lang(&req))
}

/// 200 when the database answers, 503 otherwise; no details.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.service.admin_count().await {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable().content_type("text/plain").body("unavailable"),
    }
}

/// A browser's CSP violation report (`report-uri`: `{"csp-report": {...}}`, or the Reporting API's
/// list of `{"type": "csp-violation", "body": {...}}`). Only the directive is kept.
pub async fn csp_report(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let reports: Vec<&serde_json::Value> = match &value {
        serde_json::Value::Array(list) => list.iter().filter_map(|r| r.get("body")).collect(),
        v => v.get("csp-report").into_iter().collect(),
    };
    for r in reports {
        let directive = ["effective-directive", "effectiveDirective", "violated-directive"]
            .iter()
            .find_map(|k| r.get(*k).and_then(|d| d.as_str()))
            .unwrap_or("unknown");
        state.service.note_csp_violation(directive);
    }
    HttpResponse::NoContent().finish()
}
