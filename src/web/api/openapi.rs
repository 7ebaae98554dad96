//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' annotations and the types they
//! take and give (utoipa), served at `/api/v1/openapi.json`.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{broadcasts, channels, import, subscribers, webhooks};
use crate::domain::Problem;

/// Every error of the API: `{"error": {"code": "…", "message": "…"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: Problem,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herold API",
        description = "Broadcasts, channels, subscribers, member list imports and webhooks of a herold \
            installation. Authenticate with `Authorization: Bearer hrd_…` (a token an owner creates under \
            *API tokens*); scopes: read < send < write. Errors are always `ErrorBody` with a code."
    ),
    paths(
        broadcasts::create, broadcasts::list, broadcasts::get, broadcasts::pause, broadcasts::resume,
        broadcasts::cancel,
        channels::list, channels::get, channels::create, channels::update,
        import::preview, import::commit,
        subscribers::list, subscribers::get, subscribers::create, subscribers::search, subscribers::export,
        subscribers::erase,
        webhooks::list, webhooks::create, webhooks::get, webhooks::enable, webhooks::remove,
        webhooks::inbox_message,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerToken),
    security(("token" = [])),
)]
pub struct ApiDoc;

/// The bearer token every route takes, and the errors every route can answer.
struct BearerToken;

/// Errors any route may answer, before its handler runs.
const COMMON_ERRORS: [(&str, &str); 7] = [
    ("400", "the body, query or path cannot be read (`body-malformed`, `query-malformed`)"),
    ("401", "no token, or an unknown one (`token-missing`)"),
    ("403", "the token's scope does not reach (`forbidden`)"),
    ("413", "the body is over 256 KiB (`body-too-large`)"),
    ("415", "the body is not JSON (`body-not-json`)"),
    ("500", "herold failed (`internal-error`); the log says why"),
    ("503", "the database cannot be written, e.g. a full disk (`storage-unavailable`)"),
];

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("hrd_…").build()),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete];
            for op in operations.into_iter().flatten() {
                for (status, why) in COMMON_ERRORS {
                    let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                    let response = ResponseBuilder::new().description(why).content("application/json", body).build();
                    op.responses.responses.entry(status.to_string()).or_insert(response.into());
                }
            }
        }
    }
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises"));

/// `GET /api/v1/openapi.json`: the document, for anyone (it describes, it holds no data).
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}
