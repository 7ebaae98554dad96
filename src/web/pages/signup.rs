//! The public sign-up page of each channel: its description, the SMS number and keyword, a matrix.to
//! link to the bot, and QR codes as SVG (inline, and as files to download for posters and websites).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::ok;
use super::privacy::Query;
use crate::service::channels::Signup;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::i18n::{Lang, Texts, texts};

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    t: &'static Texts,
    lang: Lang,
    s: Signup,
    sms_link: Option<String>,
    keyword_lower: String,
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    keyword: web::Path<String>,
    q: web::Query<Query>,
) -> Result<HttpResponse, WebError> {
    let s = state.service.signup(&keyword).await?;
    let lang = q.lang(&req, &state);
    let keyword_lower = s.channel.draft.keyword.to_lowercase();
    ok(&SignupPage { t: texts(lang), lang, sms_link: s.sms_link(), keyword_lower, s })
}

/// `sms.svg`, `matrix.svg` or `room.svg`: the QR code of that link, as a file.
pub async fn qr(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, WebError> {
    let (keyword, file) = path.into_inner();
    let s = state.service.signup(&keyword).await?;
    let link = match file.as_str() {
        "sms.svg" => s.sms_link(),
        "matrix.svg" => s.matrix_link,
        "room.svg" => s.room_link,
        _ => None,
    };
    let svg = link.as_deref().and_then(crate::web::qr::svg).ok_or(WebError::NotFound)?;
    // Keywords may hold letters such as Ä; the file name keeps ASCII only.
    let name: String = s.channel.draft.keyword.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"herold-{name}-{file}\"")))
        .body(svg))
}
