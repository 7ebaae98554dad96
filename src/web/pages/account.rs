//! The admin's own account: password (ends every other session) and language.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok, render, see_other};
use crate::crypto::password;
use crate::service::ServiceError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    language: String,
    /// The admin's own time zone (empty: the installation's, `installation_zone`).
    time_zone: String,
    installation_zone: String,
    /// Every zone name, for the field's suggestions.
    zones: Vec<String>,
    error: Option<Problem>,
}

impl AccountPage {
    fn new(state: &AppState, me: &Me, error: Option<Problem>) -> Result<Self, WebError> {
        let admin = me.admin()?;
        Ok(Self {
            ctx: Ctx::new(me)?,
            language: admin.language.clone().unwrap_or_default(),
            time_zone: admin.time_zone.clone().unwrap_or_default(),
            installation_zone: state.service.settings().zone.name().to_string(),
            zones: jiff::tz::db().available().map(|n| n.to_string()).collect(),
            error,
        })
    }
}

pub async fn show(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    ok(&AccountPage::new(&state, &me, None)?)
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// The admin's own time zone; empty: the installation's.
pub async fn change_zone(state: web::Data<AppState>, me: Me, f: web::Form<ZoneForm>) -> Result<HttpResponse, WebError> {
    match state.service.set_time_zone(me.admin()?.id, Some(f.time_zone.clone())).await {
        Ok(()) => Ok(see_other("/account")),
        Err(ServiceError::Invalid(p)) => render(StatusCode::BAD_REQUEST, &AccountPage::new(&state, &me, Some(p))?),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    password2: String,
}

pub async fn change_password(
    state: web::Data<AppState>,
    me: Me,
    f: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let admin = me.admin()?.clone();
    let current_ok = {
        let (pw, stored) = (f.current.clone(), admin.password_hash.clone());
        tokio::task::spawn_blocking(move || password::verify(&pw, Some(&stored)))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
    };
    let error = if !current_ok {
        Problem::new("pw-current-wrong")
    } else if f.password != f.password2 {
        Problem::new("pw-differ")
    } else {
        match state.service.set_password(&me.0.actor(), admin.id, f.password.clone()).await {
            // Every session of this admin has ended, this one too: log in again.
            Ok(()) => return Ok(see_other("/login")),
            Err(ServiceError::Invalid(m)) => m,
            Err(e) => return Err(e.into()),
        }
    };
    render(StatusCode::BAD_REQUEST, &AccountPage::new(&state, &me, Some(error))?)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    language: String,
}

pub async fn change_language(
    state: web::Data<AppState>,
    me: Me,
    f: web::Form<LanguageForm>,
) -> Result<HttpResponse, WebError> {
    let lang = match f.language.as_str() {
        "" => None,
        l => Some(l.to_string()),
    };
    state.service.set_language(me.admin()?.id, lang).await?;
    Ok(see_other("/account"))
}
