//! API tokens (owners only): list, create (the secret is shown once), remove.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, render, see_other};
use crate::service::ServiceError;
use crate::service::{ApiToken, Scope};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    ctx: Ctx,
    tokens: Vec<ApiToken>,
    created: Option<String>,
    error: Option<Problem>,
}

async fn page(
    state: &AppState,
    me: &Me,
    status: StatusCode,
    created: Option<String>,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let tokens = state.service.list_tokens().await?;
    render(status, &TokensPage { ctx: Ctx::new(me)?, tokens, created, error })
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    page(&state, &me, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    scope: String,
}

pub async fn create(state: web::Data<AppState>, me: Me, f: web::Form<NewToken>) -> Result<HttpResponse, WebError> {
    let Some(scope) = Scope::parse(&f.scope) else {
        return page(&state, &me, StatusCode::BAD_REQUEST, None, Some(Problem::new("scope-unknown"))).await;
    };
    match state.service.create_token(&me.0.actor(), me.admin()?.id, &f.name, scope).await {
        Ok((_, secret)) => page(&state, &me, StatusCode::OK, Some(secret), None).await,
        Err(ServiceError::Invalid(m)) => page(&state, &me, StatusCode::BAD_REQUEST, None, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn remove(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    state.service.remove_token(&me.0.actor(), *id).await?;
    Ok(see_other("/tokens"))
}
