//! The public privacy notice of each channel, generated from the configuration: what is stored, why,
//! for how long, and how to see or erase it. German or English by `?lang=` or the browser's language.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ok;
use crate::service::privacy::Notice;
use crate::web::AppState;
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "privacy.html")]
struct NoticePage {
    n: Notice,
    de: bool,
}

#[derive(Debug, Deserialize)]
pub struct Query {
    lang: Option<String>,
}

/// German unless `?lang=en`, or the browser prefers English to German.
fn german(req: &HttpRequest, q: &Query) -> bool {
    if let Some(l) = &q.lang {
        return l != "en";
    }
    let accept = req.headers().get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
    let first = accept
        .split(',')
        .map(|p| p.trim().get(..2).unwrap_or("").to_ascii_lowercase())
        .find(|l| l == "de" || l == "en");
    first.as_deref() != Some("en")
}

pub async fn notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    keyword: web::Path<String>,
    q: web::Query<Query>,
) -> Result<HttpResponse, WebError> {
    let n = state.service.privacy_notice(&keyword).await?;
    ok(&NoticePage { n, de: german(&req, &q) })
}
