//! Static files (CSS, icons, the little JS there is), embedded in the binary.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct Static;

pub async fn serve(path: web::Path<String>) -> HttpResponse {
    match Static::get(&path) {
        Some(file) => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                mime_guess::from_path(path.as_str()).first_or_octet_stream().as_ref(),
            ))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(file.data.into_owned()),
        None => HttpResponse::NotFound().finish(),
    }
}
