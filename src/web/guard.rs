//! The guard in front of every route: authentication (session cookie or API token), the route table's
//! access rule, and CSRF (token + Origin) on every state-changing form request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};

use super::AppState;
use super::error::{ApiError, WebError};
use super::routes::{self, Access};
use crate::service::auth::Principal;

pub const SESSION_COOKIE: &str = "herold_session";
pub const FORM_CSRF_COOKIE: &str = "herold_csrf";

fn deny(req: ServiceRequest, resp: HttpResponse) -> ServiceResponse<BoxBody> {
    req.into_response(resp)
}

fn bearer(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// An `Origin` (or, without one, `Referer`) header must name this server.
fn same_origin(req: &ServiceRequest, state: &AppState) -> bool {
    let host_origin = |scheme: &str| format!("{scheme}://{}", req.connection_info().host());
    // With a configured public_url and no proxy, the request's Host header (which anyone can set)
    // does not make an origin acceptable.
    let allowed = |o: &str| {
        o == state.public_origin || (!state.origin_strict && (o == host_origin("http") || o == host_origin("https")))
    };
    if let Some(o) = req.headers().get(header::ORIGIN) {
        return o.to_str().map(allowed).unwrap_or(false);
    }
    if let Some(r) = req.headers().get(header::REFERER).and_then(|r| r.to_str().ok()) {
        let origin: String = r.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        return allowed(&origin);
    }
    // Neither header: a non-browser client; the token check still applies.
    true
}

async fn form_token(req: &mut ServiceRequest) -> Result<Option<String>, Error> {
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Ok(Some(h.to_string()));
    }
    let body = req.extract::<Bytes>().await?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
    req.set_payload(Payload::from(body));
    Ok(token)
}

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<Data<AppState>>().cloned().expect("AppState is registered");
    let spec = req.match_pattern().and_then(|p| routes::lookup(req.method().as_str(), &p));
    let Some(spec) = spec else {
        // No such route: actix answers 404/405 and no handler runs.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let service = &state.service;

    let principal = match spec.access {
        Access::Public | Access::Gateway | Access::Report | Access::Metrics => None,
        a if a.is_api() => match bearer(&req) {
            Some(t) => service.authenticate_token(&t).await.map_err(ApiError::from)?,
            None => None,
        },
        _ => match req.cookie(SESSION_COOKIE) {
            Some(c) => service.session(c.value()).await.map_err(WebError::from)?,
            None => None,
        },
    };

    // Error pages speak the admin's language, else the browser's.
    let lang = match &principal {
        Some(Principal::Admin { admin, .. }) => admin.language.as_deref().and_then(super::i18n::Lang::parse),
        _ => None,
    }
    .unwrap_or_else(|| browser_lang(req.request()));
    let allowed = match (spec.access, &principal) {
        (Access::Public | Access::Gateway | Access::Report | Access::Metrics, _) => true,
        (Access::Viewer, Some(Principal::Admin { admin, .. })) => admin.role.allows(crate::domain::Role::Viewer),
        (Access::Editor, Some(Principal::Admin { admin, .. })) => admin.role.allows(crate::domain::Role::Editor),
        (Access::Owner, Some(Principal::Admin { admin, .. })) => admin.role.allows(crate::domain::Role::Owner),
        (Access::ApiRead, Some(Principal::Token(_))) => true,
        (Access::ApiSend, Some(Principal::Token(t))) => t.scope >= crate::service::Scope::Send,
        (Access::ApiWrite, Some(Principal::Token(t))) => t.scope >= crate::service::Scope::Write,
        _ => false,
    };
    if !allowed {
        let resp = match (spec.access.is_api(), principal.is_some()) {
            (true, false) => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(ApiError::body(&crate::domain::Problem::new("token-missing"))),
            (true, true) => ApiError(WebError::Forbidden).error_response(),
            (false, false) if req.method() == Method::GET => {
                HttpResponse::SeeOther().insert_header((header::LOCATION, "/login")).finish()
            }
            (false, false) => HttpResponse::Unauthorized().body("log in first"),
            (false, true) => WebError::Forbidden.page(lang),
        };
        return Ok(deny(req, resp));
    }

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !spec.access.is_api() && !matches!(spec.access, Access::Gateway | Access::Report) {
        let expected = match &principal {
            Some(Principal::Admin { csrf, .. }) => Some(csrf.clone()),
            _ => req.cookie(FORM_CSRF_COOKIE).map(|c| c.value().to_string()),
        };
        let given = form_token(&mut req).await?;
        let token_ok = matches!((&expected, &given), (Some(e), Some(g)) if ct_eq(e, g));
        if !token_ok || !same_origin(&req, &state) {
            tracing::info!(path = spec.path, "refused a request without a valid CSRF token or origin");
            return Ok(deny(req, WebError::Forbidden.page(lang)));
        }
    }

    // Every admin page says how many conversations wait (in the navigation).
    if matches!(principal, Some(Principal::Admin { .. })) && req.method() == Method::GET {
        let open = service.open_threads().await.map_err(WebError::from)?;
        req.extensions_mut().insert(OpenThreads(open));
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let res = next.call(req).await?.map_into_boxed_body();
    let page = match res.response().error().and_then(|e| e.as_error::<WebError>()) {
        Some(e) if lang != super::i18n::Lang::En && !spec.access.is_api() => e.page(lang),
        _ => return Ok(res),
    };
    Ok(res.into_response(page))
}

/// Extracts the principal the guard put on the request, the language the browser prefers, and the
/// time zone times on pages are typed and shown in: the admin's own, else the installation's.
/// The fourth field: how many conversations wait for the team (on pages; 0 for forms posted).
pub struct Me(pub Principal, pub super::i18n::Lang, pub crate::domain::zone::Zone, pub i64);

/// How many conversations are open, looked up once per admin page.
#[derive(Debug, Clone, Copy)]
struct OpenThreads(i64);

/// The language the request's browser prefers; English when it names neither German nor English.
pub fn browser_lang(req: &actix_web::HttpRequest) -> super::i18n::Lang {
    browser_lang_or(req, super::i18n::Lang::En)
}

/// The language the request's browser prefers, else `fallback`.
pub fn browser_lang_or(req: &actix_web::HttpRequest, fallback: super::i18n::Lang) -> super::i18n::Lang {
    let header = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    super::i18n::from_accept_language(header).unwrap_or(fallback)
}

impl actix_web::FromRequest for Me {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;
    fn from_request(req: &actix_web::HttpRequest, _: &mut Payload) -> Self::Future {
        let lang = browser_lang(req);
        let zone = req
            .app_data::<actix_web::web::Data<super::AppState>>()
            .map(|s| s.service.settings().zone.clone())
            .unwrap_or_default();
        let me = req.extensions().get::<Principal>().cloned().map(|p| {
            let own = match &p {
                Principal::Admin { admin, .. } => {
                    admin.time_zone.as_deref().and_then(|z| crate::domain::zone::Zone::parse(z).ok())
                }
                Principal::Token(_) => None,
            };
            let open = req.extensions().get::<OpenThreads>().map_or(0, |o| o.0);
            Me(p, lang, own.unwrap_or(zone), open)
        });
        std::future::ready(me.ok_or(WebError::Forbidden))
    }
}

impl Me {
    pub fn admin(&self) -> Result<&crate::service::Admin, WebError> {
        match &self.0 {
            Principal::Admin { admin, .. } => Ok(admin),
            Principal::Token(_) => Err(WebError::Forbidden),
        }
    }
    pub fn csrf(&self) -> String {
        match &self.0 {
            Principal::Admin { csrf, .. } => csrf.clone(),
            Principal::Token(_) => String::new(),
        }
    }
}
