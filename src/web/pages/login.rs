//! First-owner setup, login (throttled per IP and per account), logout.

use crate::domain::Problem;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::web::guard::browser_lang;
use crate::web::i18n::{Lang, Texts, texts};
use serde::Deserialize;

use super::{ok, render, see_other};
use crate::service::auth::random_token;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::{FORM_CSRF_COOKIE, Me, SESSION_COOKIE};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Texts,
    lang: Lang,
    csrf: String,
    error: Option<Problem>,
    username: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    t: &'static Texts,
    lang: Lang,
    csrf: String,
    token: String,
    error: Option<Problem>,
    username: String,
}

fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.secure_cookies || (state.trust_proxy && req.connection_info().scheme() == "https")
}

fn cookie<'a>(name: &'a str, value: String, secure: bool) -> Cookie<'a> {
    Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Strict).secure(secure).finish()
}

/// A fresh anonymous-form CSRF token, set as a cookie and put in the form (double submit).
fn with_form_token(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    page: impl FnOnce(String) -> Result<HttpResponse, WebError>,
) -> Result<HttpResponse, WebError> {
    let token = random_token(24);
    let mut resp = page(token.clone())?;
    resp.head_mut().status = status;
    resp.add_cookie(&cookie(FORM_CSRF_COOKIE, token, secure(req, state)))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

fn client_ip(req: &HttpRequest, state: &AppState) -> std::net::IpAddr {
    let info = req.connection_info();
    let from_proxy = state.trust_proxy.then(|| info.realip_remote_addr().and_then(|a| a.parse().ok())).flatten();
    from_proxy.or_else(|| req.peer_addr().map(|a| a.ip())).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
}

pub async fn login_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    if state.service.admin_count().await? == 0 {
        return Ok(see_other("/setup"));
    }
    with_form_token(&req, &state, StatusCode::OK, |csrf| {
        let lang = browser_lang(&req);
        ok(&LoginPage { t: texts(lang), lang, csrf, error: None, username: String::new() })
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let lang = browser_lang(&req);
    let t = texts(lang);
    let again = |status, msg: Problem| {
        let username = form.username.clone();
        with_form_token(&req, &state, status, move |csrf| {
            render(status, &LoginPage { t, lang, csrf, error: Some(msg), username })
        })
    };
    let ip = client_ip(&req, &state);
    let account = form.username.trim().to_lowercase();
    // Admins are not subscribers: their name and address are logged for fail2ban and the like.
    if let Err(wait) = state.logins.check(&account, ip) {
        let seconds = wait.as_secs().max(1);
        tracing::warn!(admin = %account, client = %ip, wait = seconds, "login throttled");
        state.service.metrics().rate_limited(crate::metrics::RateLimit::Login);
        return again(StatusCode::TOO_MANY_REQUESTS, Problem::new("login-throttled").with("seconds", seconds));
    }
    let delay = state.logins.delay(&account);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let session = state.service.login(&form.username, &form.password).await?;
    if session.is_none() {
        state.logins.failed(&account);
        tracing::warn!(admin = %account, client = %ip, "login failed");
    }
    match session {
        Some(session) => {
            let mut resp = see_other("/");
            let mut c = cookie(SESSION_COOKIE, session.token, secure(&req, &state));
            c.set_max_age(Duration::seconds(state.service.settings().session_ttl));
            resp.add_cookie(&c).map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(resp)
        }
        None => again(StatusCode::UNAUTHORIZED, Problem::new("login-failed")),
    }
}

pub async fn logout(req: HttpRequest, state: web::Data<AppState>, _me: Me) -> Result<HttpResponse, WebError> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        state.service.logout(c.value()).await?;
    }
    let mut resp = see_other("/login");
    let mut gone = cookie(SESSION_COOKIE, String::new(), secure(&req, &state));
    gone.make_removal();
    resp.add_cookie(&gone).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SetupQuery>,
) -> Result<HttpResponse, WebError> {
    if !state.service.setup_token_valid(&q.token) {
        return Err(WebError::NotFound);
    }
    let token = q.token.clone();
    with_form_token(&req, &state, StatusCode::OK, |csrf| {
        let lang = browser_lang(&req);
        ok(&SetupPage { t: texts(lang), lang, csrf, token, error: None, username: String::new() })
    })
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    password: String,
    password2: String,
}

pub async fn setup_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let lang = browser_lang(&req);
    let t = texts(lang);
    if !state.service.setup_token_valid(&form.token) {
        return Err(WebError::NotFound);
    }
    let result = if form.password != form.password2 {
        Err(Problem::new("pw-differ"))
    } else {
        match state.service.create_first_owner(&form.token, &form.username, form.password.clone()).await {
            Ok(_) => Ok(()),
            Err(crate::service::ServiceError::Invalid(m)) => Err(m),
            Err(e) => return Err(e.into()),
        }
    };
    match result {
        Ok(()) => Ok(see_other("/login")),
        Err(msg) => {
            let (token, username) = (form.token.clone(), form.username.clone());
            with_form_token(&req, &state, StatusCode::BAD_REQUEST, move |csrf| {
                render(StatusCode::BAD_REQUEST, &SetupPage { t, lang, csrf, token, error: Some(msg), username })
            })
        }
    }
}
