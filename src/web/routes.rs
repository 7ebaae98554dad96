//! The route table: every route with the access it needs. The guard middleware enforces it, and the
//! authorisation test compares it with its own expectations, so no route can be added unlisted.

use super::{api, hooks, pages};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health check, static files, login and setup forms).
    Public,
    /// A logged-in admin of at least this role.
    Viewer,
    Editor,
    Owner,
    /// A gateway's webhook: the handler authenticates it with that gateway's secret or signature
    /// (no session, no CSRF token: gateways are not browsers).
    Gateway,
    /// A browser's own report (CSP violations): no session, no CSRF token, the body is only counted.
    Report,
    /// The Prometheus scrape: the handler checks the bearer token of `[metrics]` (404 when off).
    Metrics,
    /// An API token with at least this scope (read < send < write).
    ApiRead,
    ApiSend,
    ApiWrite,
}

impl Access {
    pub fn is_api(self) -> bool {
        matches!(self, Access::ApiRead | Access::ApiSend | Access::ApiWrite)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

macro_rules! routes {
    ($( $method:ident $path:literal $access:ident => $handler:path ;)*) => {
        /// Every route herold serves.
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path, access: Access::$access } ),*
        ];

        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            $( cfg.route($path, actix_web::web::$method().to($handler)); )*
        }
    };
}

routes! {
    get  "/healthz"                      Public   => pages::misc::healthz;
    get  "/metrics"                      Metrics  => super::metrics::on_main;
    get  "/static/{file:.*}"             Public   => super::assets::serve;
    get  "/setup"                        Public   => pages::login::setup_form;
    post "/setup"                        Public   => pages::login::setup_submit;
    get  "/login"                        Public   => pages::login::login_form;
    post "/login"                        Public   => pages::login::login_submit;
    get  "/n/{keyword}"                  Public   => pages::archive::list;
    post "/hooks/sms/{gateway}/{endpoint}" Gateway => hooks::sms;
    get  "/hooks/sms/{gateway}/{endpoint}" Gateway => hooks::sms;
    get  "/n/{keyword}/{id}"             Public   => pages::archive::show;
    post "/csp-report"                   Report   => pages::misc::csp_report;
    get  "/join/{keyword}"               Public   => pages::signup::show;
    get  "/join/{keyword}/{file}"        Public   => pages::signup::qr;
    get  "/privacy/{keyword}"            Public   => pages::privacy::notice;
    post "/logout"                       Viewer   => pages::login::logout;
    get  "/"                             Viewer   => pages::dashboard::show;
    get  "/channels"                     Viewer   => pages::channels::list;
    get  "/channels/new"                 Editor   => pages::channels::new_form;
    post "/channels"                     Editor   => pages::channels::create;
    get  "/channels/{id}"                Viewer   => pages::channels::show;
    get  "/channels/{id}/edit"           Editor   => pages::channels::edit_form;
    post "/channels/{id}"                Editor   => pages::channels::update;
    post "/channels/{id}/room"           Editor   => pages::channels::create_room;
    post "/channels/{id}/room/drop"      Editor   => pages::channels::drop_room;
    get  "/subscribers"                  Viewer   => pages::subscribers::list;
    post "/subscribers/search"           Viewer   => pages::subscribers::search;
    get  "/subscribers/new"              Editor   => pages::subscribers::new_form;
    get  "/subscribers/import"           Editor   => pages::import::form;
    post "/subscribers/import"           Editor   => pages::import::submit;
    post "/subscribers"                  Editor   => pages::subscribers::create;
    get  "/subscribers/{id}"             Viewer   => pages::subscribers::show;
    get  "/subscribers/{id}/export"      Editor   => pages::subscribers::export_page;
    get  "/subscribers/{id}/export.json" Editor   => pages::subscribers::export_json;
    post "/subscribers/{id}/erase"       Editor   => pages::subscribers::erase;
    post "/subscribers/{id}/language"    Editor   => pages::subscribers::set_language;
    get  "/broadcasts"                   Viewer   => pages::broadcasts::list;
    get  "/broadcasts/new"               Editor   => pages::broadcasts::new_form;
    post "/broadcasts/preview"           Editor   => pages::broadcasts::preview;
    post "/broadcasts"                   Editor   => pages::broadcasts::create;
    post "/broadcasts/drafts"            Editor   => pages::broadcasts::save_draft;
    post "/broadcasts/submit"            Editor   => pages::broadcasts::submit;
    post "/broadcasts/test"              Editor   => pages::broadcasts::test;
    get  "/broadcasts/drafts/{id}"       Editor   => pages::broadcasts::draft;
    post "/broadcasts/drafts/{id}/return" Owner   => pages::broadcasts::return_draft;
    post "/broadcasts/drafts/{id}/delete" Editor  => pages::broadcasts::delete_draft;
    post "/broadcasts/{id}/unschedule"   Editor   => pages::broadcasts::unschedule;
    get  "/broadcasts/{id}"              Viewer   => pages::broadcasts::show;
    get  "/broadcasts/{id}/progress"     Viewer   => pages::broadcasts::progress;
    post "/broadcasts/{id}/pause"        Editor   => pages::broadcasts::pause;
    post "/broadcasts/{id}/resume"       Editor   => pages::broadcasts::resume;
    post "/broadcasts/{id}/cancel"       Editor   => pages::broadcasts::cancel;
    get  "/inbox"                        Viewer   => pages::inbox::list;
    get  "/inbox/open-count"             Viewer   => pages::inbox::open_count;
    post "/inbox/team-room"              Owner    => pages::inbox::create_team_room;
    post "/inbox/team-room/drop"         Owner    => pages::inbox::drop_team_room;
    get  "/inbox/{id}"                   Viewer   => pages::inbox::show;
    post "/inbox/{id}/reply"             Editor   => pages::inbox::reply;
    post "/inbox/{id}/assign"            Editor   => pages::inbox::assign;
    post "/inbox/{id}/state"             Editor   => pages::inbox::set_state;
    get  "/answers"                      Viewer   => pages::answers::list;
    post "/answers"                      Editor   => pages::answers::create;
    post "/answers/{id}/delete"          Editor   => pages::answers::remove;
    get  "/sandbox"                      Editor   => pages::sandbox::show;
    get  "/sandbox/screen"               Editor   => pages::sandbox::screen;
    post "/sandbox"                      Editor   => pages::sandbox::type_message;
    get  "/account"                      Viewer   => pages::account::show;
    post "/account/password"             Viewer   => pages::account::change_password;
    post "/account/language"             Viewer   => pages::account::change_language;
    post "/account/zone"                 Viewer   => pages::account::change_zone;
    get  "/admins"                       Owner    => pages::admins::list;
    post "/admins"                       Owner    => pages::admins::create;
    post "/admins/{id}/password"         Owner    => pages::admins::reset_password;
    post "/admins/{id}/delete"           Owner    => pages::admins::remove;
    get  "/gateways"                     Owner    => pages::gateways::list;
    post "/gateways/{source}/secret-stored" Owner => pages::gateways::secret_stored;
    post "/gateways/{name}/test"         Owner    => pages::gateways::test_send;
    get  "/audit"                        Owner    => pages::audit::list;
    get  "/tokens"                       Owner    => pages::tokens::list;
    post "/tokens"                       Owner    => pages::tokens::create;
    post "/tokens/{id}/delete"           Owner    => pages::tokens::remove;
    get  "/webhooks"                     Owner    => pages::webhooks::list;
    post "/webhooks"                     Owner    => pages::webhooks::create;
    get  "/webhooks/{id}"                Owner    => pages::webhooks::show;
    post "/webhooks/{id}/enable"         Owner    => pages::webhooks::enable;
    post "/webhooks/{id}/delete"         Owner    => pages::webhooks::remove;
    get  "/api/v1/openapi.json"          Public   => api::openapi::serve;
    get  "/api/v1/broadcasts"            ApiRead  => api::broadcasts::list;
    post "/api/v1/broadcasts"            ApiSend  => api::broadcasts::create;
    get  "/api/v1/broadcasts/{id}"       ApiRead  => api::broadcasts::get;
    post "/api/v1/broadcasts/{id}/pause" ApiSend  => api::broadcasts::pause;
    post "/api/v1/broadcasts/{id}/resume" ApiSend => api::broadcasts::resume;
    post "/api/v1/broadcasts/{id}/cancel" ApiSend => api::broadcasts::cancel;
    get  "/api/v1/channels"              ApiRead  => api::channels::list;
    post "/api/v1/channels"              ApiWrite => api::channels::create;
    get  "/api/v1/channels/{id}"         ApiRead  => api::channels::get;
    put  "/api/v1/channels/{id}"         ApiWrite => api::channels::update;
    post "/api/v1/import/preview"        ApiWrite => api::import::preview;
    post "/api/v1/import"                ApiWrite => api::import::commit;
    get  "/api/v1/inbox/{id}"            ApiWrite => api::webhooks::inbox_message;
    get  "/api/v1/subscribers"           ApiRead  => api::subscribers::list;
    post "/api/v1/subscribers"           ApiWrite => api::subscribers::create;
    post "/api/v1/subscribers/search"    ApiRead  => api::subscribers::search;
    get  "/api/v1/subscribers/{id}"      ApiRead  => api::subscribers::get;
    get  "/api/v1/subscribers/{id}/export" ApiWrite => api::subscribers::export;
    delete "/api/v1/subscribers/{id}"    ApiWrite => api::subscribers::erase;
    get  "/api/v1/webhooks"              ApiWrite => api::webhooks::list;
    post "/api/v1/webhooks"              ApiWrite => api::webhooks::create;
    get  "/api/v1/webhooks/{id}"         ApiWrite => api::webhooks::get;
    delete "/api/v1/webhooks/{id}"       ApiWrite => api::webhooks::remove;
    post "/api/v1/webhooks/{id}/enable"  ApiWrite => api::webhooks::enable;
}

/// The route spec for a matched pattern and method.
pub fn lookup(method: &str, pattern: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.path == pattern && r.method.eq_ignore_ascii_case(method))
}
