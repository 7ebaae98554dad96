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
    error: Option<Problem>,
}

pub async fn show(me: Me) -> Result<HttpResponse, WebError> {
    let language = me.admin()?.language.clone().unwrap_or_default();
    ok(&AccountPage { ctx: Ctx::new(&me)?, language, error: None })
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
    let ctx = Ctx::new(&me)?;
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
    let page = AccountPage { ctx, language: admin.language.unwrap_or_default(), error: Some(error) };
    render(StatusCode::BAD_REQUEST, &page)
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
