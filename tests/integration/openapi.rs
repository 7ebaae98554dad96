//! The OpenAPI document at `/api/v1/openapi.json` against the real API: it describes every `/api/v1`
//! route herold serves, and every answer a walk through the API gets (successes and errors, bodies
//! checked with a JSON Schema validator against the document's schemas) is one the document lists.

use crate::common;

use common::TestApp;
use herold::service::{Actor, Scope};
use herold::web::routes::ROUTES;
use serde_json::{Value, json};

/// Sends requests and checks each answer against the document.
struct Checker<'a> {
    app: &'a TestApp,
    doc: Value,
    checked: usize,
}

impl Checker<'_> {
    /// Sends `method` to `path` (the document's template with `{id}` filled by `id`) and checks the
    /// status is documented for that operation and the body matches its schema.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        id: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let path = template.replace("{id}", id);
        let client = self.app.client();
        let mut req = match method {
            "get" => client.get(self.app.url(&path)),
            "post" => client.post(self.app.url(&path)),
            "put" => client.put(self.app.url(&path)),
            "delete" => client.delete(self.app.url(&path)),
            m => panic!("method {m}"),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let template = template.split('?').next().unwrap();
        let answer = &self.doc["paths"][template][method]["responses"][status.to_string()];
        assert!(answer.is_object(), "{method} {template} answered {status}, which the document does not list: {text}");
        let value: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        match errors(&self.doc, template, method, status, &value) {
            Some(errors) => assert!(errors.is_empty(), "{method} {template} {status}: {errors:?} in {text}"),
            None => assert!(text.is_empty(), "{method} {template} {status} has a body the document does not describe"),
        }
        self.checked += 1;
        (status, value)
    }
}

/// What the document's schema for this answer finds wrong with `value` (none: no schema).
fn errors(doc: &Value, template: &str, method: &str, status: u16, value: &Value) -> Option<Vec<String>> {
    let answer = &doc["paths"][template][method]["responses"][status.to_string()];
    let schema = answer["content"]["application/json"]["schema"].as_object()?;
    // The operation's schema with the document's components beside it, so its $refs resolve.
    let mut root = Value::Object(schema.clone());
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("a valid schema");
    Some(validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route_and_every_answer() {
    let app = TestApp::spawn().await;
    let r = app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200, "served without a token");
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(!doc.to_string().contains("herold::"), "no Rust path names a schema");

    // Every /api/v1 route is in the document, with its method, and nothing else is.
    let served: std::collections::BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json")
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let mut described = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "put", "delete"].contains(&m.as_str()))
        {
            described.insert((method.clone(), path.clone()));
        }
    }
    assert_eq!(described, served);

    let owner = app.service.add_admin(&Actor::Cli, "owner", "owner-password-1".into(), herold::domain::Role::Owner);
    let owner = owner.await.unwrap().id;
    let write = app.service.create_token(&Actor::Cli, owner, "w", Scope::Write).await.unwrap().1;
    let read = app.service.create_token(&Actor::Cli, owner, "r", Scope::Read).await.unwrap().1;
    let (w, r) = (Some(write.as_str()), Some(read.as_str()));
    let mut c = Checker { app: &app, doc, checked: 0 };

    // Channels.
    let draft = json!({ "name": "Nachrichten", "keyword": "NEWS", "kind": "broadcast", "opt_in": "double",
        "transports": ["sandbox"], "frequency": { "max": 5, "period": "week" },
        "texts": { "welcome_de": "Willkommen!" } });
    let (s, ch) = c.call("post", "/api/v1/channels", "", w, Some(draft.clone())).await;
    assert_eq!(s, 201);
    let ch = ch["id"].as_i64().unwrap().to_string();
    assert_eq!(c.call("post", "/api/v1/channels", "", w, Some(draft.clone())).await.0, 409);
    assert_eq!(c.call("post", "/api/v1/channels", "", w, Some(json!({ "name": "x" }))).await.0, 422);
    c.call("get", "/api/v1/channels", "", r, None).await;
    c.call("get", "/api/v1/channels/{id}", &ch, r, None).await;
    assert_eq!(c.call("get", "/api/v1/channels/{id}", "999", r, None).await.0, 404);
    assert_eq!(c.call("get", "/api/v1/channels/{id}", "abc", r, None).await.0, 404);
    let mut changed = draft.clone();
    changed["description"] = json!("Neu");
    assert_eq!(c.call("put", "/api/v1/channels/{id}", &ch, w, Some(changed)).await.0, 200);
    assert_eq!(c.call("post", "/api/v1/channels", "", r, Some(draft)).await.0, 403);
    assert_eq!(c.call("get", "/api/v1/channels", "", None, None).await.0, 401);

    // Subscribers, and an import.
    let add = json!({ "transport": "sandbox", "address": "+4915112340100", "language": "de",
        "channels": [ch.parse::<i64>().unwrap()], "consent_note": "Liste am Eingang" });
    let (s, sub) = c.call("post", "/api/v1/subscribers", "", w, Some(add.clone())).await;
    assert_eq!(s, 201);
    let sub = sub["id"].as_str().unwrap().to_string();
    assert_eq!(c.call("post", "/api/v1/subscribers", "", w, Some(add)).await.0, 409);
    c.call("get", "/api/v1/subscribers", "", r, None).await;
    assert_eq!(c.call("get", "/api/v1/subscribers?state=gone", "", r, None).await.0, 422);
    assert_eq!(c.call("get", "/api/v1/subscribers?limit=abc", "", r, None).await.0, 400);
    c.call("get", "/api/v1/subscribers/{id}", &sub, r, None).await;
    let found = json!({ "address": "+49 151 12340100" });
    assert_eq!(c.call("post", "/api/v1/subscribers/search", "", r, Some(found)).await.0, 200);
    c.call("get", "/api/v1/subscribers/{id}/export", &sub, w, None).await;
    let import = json!({ "channels": [ch.parse::<i64>().unwrap()], "consent_source": "Sommerfest 2026",
        "csv": "Nummer;Sprache;Name\n+4915112340101;de;Anna\nkeine;de;Bert\n" });
    let (_, preview) = c.call("post", "/api/v1/import/preview", "", w, Some(import.clone())).await;
    assert_eq!(preview["errors"][0]["line"], 3);
    assert_eq!(c.call("post", "/api/v1/import", "", w, Some(import)).await.0, 200);

    // Broadcasts: now, scheduled, paused, resumed, cancelled, refused.
    let notice = json!({ "body": "Training fällt aus", "channels": [ch.parse::<i64>().unwrap()] });
    let (s, b) = c.call("post", "/api/v1/broadcasts", "", w, Some(notice)).await;
    assert_eq!(s, 201);
    let later = json!({ "body": "Sommerfest", "channels": [ch.parse::<i64>().unwrap()],
        "send_at": "2030-06-01T10:00:00+02:00" });
    let (_, later) = c.call("post", "/api/v1/broadcasts", "", w, Some(later)).await;
    let later = later["id"].as_i64().unwrap().to_string();
    c.call("post", "/api/v1/broadcasts/{id}/pause", &later, w, None).await;
    c.call("post", "/api/v1/broadcasts/{id}/resume", &later, w, None).await;
    c.call("post", "/api/v1/broadcasts/{id}/cancel", &later, w, None).await;
    assert_eq!(c.call("post", "/api/v1/broadcasts/{id}/cancel", &later, w, None).await.0, 409);
    c.call("get", "/api/v1/broadcasts", "", r, None).await;
    c.call("get", "/api/v1/broadcasts/{id}", &b["id"].to_string(), r, None).await;
    assert_eq!(c.call("post", "/api/v1/broadcasts", "", w, Some(json!({ "body": "", "channels": [] }))).await.0, 422);

    // Webhooks and the inbox message an event points to.
    let hook = json!({ "url": "http://127.0.0.1:9/in", "events": ["inbox.message", "broadcast.finished"] });
    let (s, made) = c.call("post", "/api/v1/webhooks", "", w, Some(hook)).await;
    assert_eq!(s, 201);
    let hook = made["webhook"]["id"].to_string();
    let bad = json!({ "url": "nowhere", "events": ["inbox.message"] });
    assert_eq!(c.call("post", "/api/v1/webhooks", "", w, Some(bad)).await.0, 422);
    c.call("get", "/api/v1/webhooks", "", w, None).await;
    c.call("get", "/api/v1/webhooks/{id}", &hook, w, None).await;
    assert_eq!(c.call("post", "/api/v1/webhooks/{id}/enable", &hook, w, None).await.0, 204);
    app.service.receive(common::sandbox_message("+4915112340100", "Wann ist Training?")).await.unwrap();
    let (inbox, _) = app.service.inbox(1, 0).await.unwrap();
    c.call("get", "/api/v1/inbox/{id}", &inbox[0].id.to_string(), w, None).await;
    assert_eq!(c.call("delete", "/api/v1/webhooks/{id}", &hook, w, None).await.0, 204);
    assert_eq!(c.call("delete", "/api/v1/subscribers/{id}", &sub, w, None).await.0, 204);
    assert_eq!(c.call("delete", "/api/v1/subscribers/{id}", &sub, w, None).await.0, 404);
    assert!(c.checked >= 38, "{} answers checked", c.checked);
    // The schemas hold: answers of another shape do not pass.
    let wrong = [
        ("/api/v1/channels/{id}", "get", 200, json!({ "id": "one", "name": 3 })),
        ("/api/v1/broadcasts/{id}", "get", 404, json!({ "error": "not found" })),
        ("/api/v1/broadcasts/{id}", "get", 200, json!({ "id": 1, "state": "flying" })),
        ("/api/v1/webhooks", "post", 201, json!({ "webhook": { "id": 1 } })),
    ];
    for (template, method, status, value) in wrong {
        let found = errors(&c.doc, template, method, status, &value).expect("a schema");
        assert!(!found.is_empty(), "{method} {template} {status} accepts {value}");
    }
}
