//! The JSON API under `/api/v1`, authenticated by API tokens (read, send or write scope): one file per
//! area, each handler annotated for the OpenAPI document (`openapi.rs`) that describes them all.

pub mod broadcasts;
pub mod channels;
pub mod import;
pub mod openapi;
pub mod subscribers;
pub mod webhooks;

use actix_web::HttpResponse;

use super::error::ApiError;

type ApiResult = Result<HttpResponse, ApiError>;

/// Times in answers: RFC 3339 in UTC, or none.
fn rfc3339(ts: i64) -> Option<String> {
    Some(crate::domain::clock::rfc3339(ts)).filter(|s| !s.is_empty())
}

fn default_limit() -> i64 {
    100
}
