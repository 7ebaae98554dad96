//! The public privacy notice of each channel, generated from the configuration: what is stored, why,
//! for how long, and how to see or erase it. German or English by `?lang=` or the browser's language.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ok;
use crate::service::privacy::Notice;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::browser_lang_or;
use crate::web::i18n::{Lang, Texts, texts};

#[derive(Template)]
#[template(path = "privacy.html")]
struct NoticePage {
    n: Notice,
    t: &'static Texts,
}

#[derive(Debug, Deserialize)]
pub struct Query {
    lang: Option<String>,
}

impl Query {
    /// The language of a public page: `?lang=`, else the browser's, else herold's default language.
    pub fn lang(&self, req: &HttpRequest, state: &AppState) -> Lang {
        if let Some(l) = self.lang.as_deref().and_then(Lang::parse) {
            return l;
        }
        let fallback = Lang::parse(&state.service.settings().default_language).unwrap_or(Lang::De);
        browser_lang_or(req, fallback)
    }
}

pub async fn notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    keyword: web::Path<String>,
    q: web::Query<Query>,
) -> Result<HttpResponse, WebError> {
    let n = state.service.privacy_notice(&keyword).await?;
    ok(&NoticePage { n, t: texts(q.lang(&req, &state)) })
}
