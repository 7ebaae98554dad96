//! Web errors: a clear message for the person, an opaque page for internal failures (cause logged, never shown).

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::i18n::{self, Lang};
use crate::domain::Problem;
use crate::service::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(Problem),
    /// The request itself could not be read (malformed JSON or query, wrong content type, too large).
    #[error("{1}")]
    Malformed(StatusCode, Problem),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(Problem),
    #[error("you may not do this")]
    Forbidden,
    #[error("too many attempts; wait a minute and try again")]
    TooMany,
    #[error("storage is unavailable right now; try again shortly")]
    Unavailable,
    #[error("something went wrong on our side; the details are in the server log")]
    Internal(String),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(m) => WebError::BadRequest(m),
            ServiceError::File(m) => WebError::Internal(m),
            ServiceError::NotFound => WebError::NotFound,
            ServiceError::Conflict(m) => WebError::Conflict(m),
            ServiceError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                WebError::Unavailable
            }
            ServiceError::Internal(m) => WebError::Internal(m),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
    lang: Lang,
    back: &'a str,
}

impl WebError {
    /// The error page in `lang` (the admin's or the browser's language; see the guard). Logs nothing:
    /// [`ResponseError::error_response`] has logged an internal cause already.
    pub fn page(&self, lang: Lang) -> HttpResponse {
        let message = i18n::problem(lang, &self.problem());
        let back = i18n::texts(lang).get("err-back");
        let page = ErrorPage { status: self.status_code().as_u16(), message: &message, lang, back: &back };
        HttpResponse::build(self.status_code()).content_type(ContentType::html()).body(page.render().unwrap_or(message))
    }
}

impl WebError {
    /// What the person is told: the service's problem, or the code of this kind of error.
    pub fn problem(&self) -> Problem {
        match self {
            WebError::BadRequest(p) | WebError::Conflict(p) | WebError::Malformed(_, p) => p.clone(),
            WebError::NotFound => Problem::new("not-found"),
            WebError::Forbidden => Problem::new("forbidden"),
            WebError::TooMany => Problem::new("too-many-attempts"),
            WebError::Unavailable => Problem::new("storage-unavailable"),
            WebError::Internal(_) => Problem::new("internal-error"),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Malformed(status, _) => *status,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Forbidden => StatusCode::FORBIDDEN,
            WebError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        self.page(Lang::En)
    }
}

/// The same errors as JSON, for `/api/v1`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ApiError {
    /// The body of every API error: `{"error": {"code": …, "message": …}}` (the message in English).
    pub fn body(problem: &Problem) -> crate::web::api::openapi::ErrorBody {
        crate::web::api::openapi::ErrorBody { error: problem.clone() }
    }
}

impl ResponseError for ApiError {
    /// As for pages, except that input the request was read from but refused is 422.
    fn status_code(&self) -> StatusCode {
        match self.0 {
            WebError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ref e => e.status_code(),
        }
    }
    fn error_response(&self) -> HttpResponse {
        if let WebError::Internal(cause) = &self.0 {
            tracing::error!(%cause, "API request failed");
        }
        HttpResponse::build(self.status_code()).json(Self::body(&self.0.problem()))
    }
}

/// Extractor failures (JSON body, query string, path) as herold's own errors: JSON with a code under
/// `/api/`, a page elsewhere; never the extractor's text, which names Rust types.
pub fn extractor_error(status: StatusCode, code: &'static str, req: &actix_web::HttpRequest) -> actix_web::Error {
    let e = if status == StatusCode::NOT_FOUND {
        WebError::NotFound
    } else {
        WebError::Malformed(status, Problem::new(code))
    };
    if req.path().starts_with("/api/") { ApiError(e).into() } else { e.into() }
}

pub fn json_error(err: actix_web::error::JsonPayloadError, req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let (status, code) = match &err {
        J::Overflow { .. } | J::OverflowKnownLength { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
        J::ContentType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "body-not-json"),
        J::Deserialize(e) if e.is_data() => (StatusCode::UNPROCESSABLE_ENTITY, "body-wrong-fields"),
        _ => (StatusCode::BAD_REQUEST, "body-malformed"),
    };
    extractor_error(status, code, req)
}
