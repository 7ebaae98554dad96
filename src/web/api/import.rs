//! Importing a member list through the API (write scope): a preview that writes nothing, and the commit.

use actix_web::{HttpResponse, web};

use super::ApiResult;
use crate::service::import::{ImportReport, ImportRequest};
use crate::web::AppState;
use crate::web::api::openapi::ErrorBody;
use crate::web::guard::Me;

/// Reads and checks a member list without writing anything: what would be added, and which lines
/// cannot be (with their line numbers).
#[utoipa::path(post, path = "/api/v1/import/preview", tag = "import", request_body = ImportRequest,
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn preview(state: web::Data<AppState>, body: web::Json<ImportRequest>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.import_preview(body.into_inner()).await?))
}

/// Adds the good rows of a member list in one transaction (all or, on a failure, none).
#[utoipa::path(post, path = "/api/v1/import", tag = "import", request_body = ImportRequest,
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn commit(state: web::Data<AppState>, me: Me, body: web::Json<ImportRequest>) -> ApiResult {
    Ok(HttpResponse::Ok().json(state.service.import_commit(&me.0.actor(), body.into_inner()).await?))
}
