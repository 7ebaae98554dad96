//! Admin accounts (owners only): list, add, reset a password, remove.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok, render, see_other};
use crate::domain::Role;
use crate::service::Admin;
use crate::service::ServiceError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "admins.html")]
struct AdminsPage {
    ctx: Ctx,
    admins: Vec<Admin>,
    error: Option<Problem>,
}

async fn page(state: &AppState, me: &Me, status: StatusCode, error: Option<Problem>) -> Result<HttpResponse, WebError> {
    render(status, &AdminsPage { ctx: Ctx::new(me)?, admins: state.service.list_admins().await?, error })
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let p = AdminsPage { ctx: Ctx::new(&me)?, admins: state.service.list_admins().await?, error: None };
    ok(&p)
}

#[derive(Deserialize)]
pub struct NewAdmin {
    username: String,
    password: String,
    role: String,
}

pub async fn create(state: web::Data<AppState>, me: Me, f: web::Form<NewAdmin>) -> Result<HttpResponse, WebError> {
    let f = f.into_inner();
    let result = match Role::parse(&f.role) {
        Err(e) => Err(e.0),
        Ok(role) => match state.service.add_admin(&me.0.actor(), &f.username, f.password, role).await {
            Ok(_) => Ok(()),
            Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => Err(m),
            Err(e) => return Err(e.into()),
        },
    };
    match result {
        Ok(()) => Ok(see_other("/admins")),
        Err(m) => page(&state, &me, StatusCode::BAD_REQUEST, Some(m)).await,
    }
}

#[derive(Deserialize)]
pub struct ResetPassword {
    password: String,
}

pub async fn reset_password(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<i64>,
    f: web::Form<ResetPassword>,
) -> Result<HttpResponse, WebError> {
    match state.service.set_password(&me.0.actor(), *id, f.into_inner().password).await {
        Ok(()) if *id == me.admin()?.id => Ok(see_other("/login")),
        Ok(()) => Ok(see_other("/admins")),
        Err(ServiceError::Invalid(m)) => page(&state, &me, StatusCode::BAD_REQUEST, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    /// The box "yes, remove NAME" was ticked.
    #[serde(default)]
    confirm: String,
}

/// Removes an admin once the owner has ticked that they mean it; never the owner themselves.
pub async fn remove(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<i64>,
    f: web::Form<RemoveForm>,
) -> Result<HttpResponse, WebError> {
    if f.confirm != "yes" {
        return page(&state, &me, StatusCode::BAD_REQUEST, Some(Problem::new("admin-remove-confirm"))).await;
    }
    if *id == me.admin()?.id {
        return page(&state, &me, StatusCode::CONFLICT, Some(Problem::new("admin-remove-self"))).await;
    }
    match state.service.remove_admin(&me.0.actor(), *id).await {
        Ok(_) => Ok(see_other("/admins")),
        Err(ServiceError::Conflict(m)) => page(&state, &me, StatusCode::CONFLICT, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}
