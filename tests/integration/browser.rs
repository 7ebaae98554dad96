//! The admin UI in a real headless Chromium: the whole path an admin takes (log in, channel, sandbox
//! opt-in, compose with the live SMS counter, send, progress, find, export, erase), hostile inbound text
//! shown as text, and no Content-Security-Policy violation on any page (browsers report them to
//! `/csp-report`; the last test proves that such a report is seen).

use crate::common::{self, browser};

use std::time::Duration;

use browser::Browser;
use common::TestApp;
use fantoccini::Locator;
use herold::domain::Role;

const NUMBER: &str = "+49 151 23456789";

async fn owner(app: &TestApp) -> (&'static str, &'static str) {
    let (user, pw) = ("anna", "anna-password-123");
    app.service.add_admin(&herold::service::Actor::Cli, user, pw.into(), Role::Owner).await.unwrap();
    (user, pw)
}

/// Browsers send CSP reports on their own schedule: give them a moment before counting.
async fn settle_reports() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_runs_the_whole_path_in_a_real_browser() {
    let app = TestApp::spawn().await;
    let (user, pw) = owner(&app).await;
    let mut b = Browser::start("whole_path", &app.base, "en-GB").await;
    b.log_in(user, pw).await;

    // A channel with double opt-in on the sandbox phone.
    b.goto("/channels/new").await;
    b.fill("#name", "Vereinsnachrichten").await;
    b.fill("#keyword", "NEWS").await;
    b.fill("#description", "Termine und Neuigkeiten").await;
    b.check("input[name=t_sandbox]").await;
    b.click("form.stack button[type=submit]").await;
    assert!(b.path().await.starts_with("/channels/"), "channel page after saving: {}", b.path().await);
    assert!(b.text("main h1").await.contains("Vereinsnachrichten"));

    // A sandbox phone subscribes and confirms.
    b.goto("/sandbox").await;
    b.fill("#number", NUMBER).await;
    b.fill("#text", "START news").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for(10, "the confirmation request on the phone", |c| async move {
        c.find_all(Locator::Css(".screen .bubble")).await.map(|v| v.len() >= 2).unwrap_or(false)
    })
    .await;
    b.fill("#text", "JA").await;
    b.click("form.stack button[type=submit]").await;
    let screen = b.text(".screen").await;
    assert!(screen.contains("JA"), "{screen}");

    // Compose: umlauts stay GSM-7, an emoji switches to UCS-2 and is highlighted.
    b.goto("/broadcasts/new").await;
    b.check("input[name=channel]").await;
    b.fill("#body", "Grüße aus Köln: Übermorgen schöne Straßenfeier, Beginn 18 Uhr.").await;
    assert_eq!(b.attr("#sms-count", "data-encoding").await.as_deref(), Some("GSM-7"));
    assert_eq!(b.attr("#sms-count", "data-parts").await.as_deref(), Some("1"));
    // chromedriver types only characters of the Basic Multilingual Plane; the emoji goes in by script,
    // with the input event a keystroke would fire.
    b.js("const t = document.getElementById('body'); t.value += ' 🎉'; t.dispatchEvent(new Event('input'));").await;
    assert_eq!(b.attr("#sms-count", "data-encoding").await.as_deref(), Some("UCS-2"));
    assert_eq!(b.text("#sms-count mark").await, "🎉");
    b.shot("compose-ucs2").await;
    b.click("form.stack button[type=submit]:not([formaction])").await;
    let broadcast = b.path().await;
    assert!(broadcast.starts_with("/broadcasts/"), "broadcast page after sending: {broadcast}");

    // Progress reaches 100 % on the page itself (the embedded script polls it).
    b.wait_for(30, "progress at 100 %", |c| async move {
        match c.find(Locator::Css("progress")).await {
            Ok(p) => p.attr("value").await.ok().flatten().as_deref() == Some("100"),
            Err(_) => false,
        }
    })
    .await;
    let figures = b.text(".figures").await;
    assert!(figures.contains("sent 1 of 1"), "{figures}");
    // The delivery-over-time chart, drawn by the server.
    let marks = b
        .js("return document.querySelectorAll('figure.timeline svg circle, figure.timeline svg polyline').length")
        .await;
    assert!(marks.as_u64().unwrap() >= 1, "the chart shows the minute with the delivery");

    // The dashboard: the growth chart with the channel in its legend, the broadcast among the recent.
    b.goto("/").await;
    assert!(b.text("ul.legend").await.contains("Vereinsnachrichten"));
    assert_eq!(b.js("return document.querySelectorAll('svg.chart circle, svg.chart polyline').length").await, 1);
    assert!(b.text("#recent-h + div").await.contains("Straßenfeier"));

    // The public sign-up page with its QR code loads without breaking the policy.
    b.goto("/join/news").await;
    assert_eq!(b.text("h1").await, "Vereinsnachrichten");

    // The phone has it.
    b.goto("/sandbox").await;
    b.click("ul.phones a").await;
    let screen = b.text(".screen").await;
    assert!(screen.contains("Straßenfeier") && screen.contains("🎉"), "{screen}");

    // Find the subscriber by number, see everything stored, erase.
    b.goto("/subscribers").await;
    b.fill("#q", NUMBER).await;
    b.click("form[role=search] button").await;
    let detail = b.path().await;
    assert!(detail.starts_with("/subscribers/"), "subscriber page: {detail}");
    b.click("a[href$='/export']").await;
    let export = b.text("main").await;
    assert!(export.contains("+4915123456789"), "the export shows the number");
    b.goto(&detail).await;
    b.check("input[name=confirm]").await;
    b.click("form.danger button").await;
    assert_eq!(b.path().await, "/subscribers");
    b.fill("#q", NUMBER).await;
    b.click("form[role=search] button").await;
    assert!(b.text("main").await.contains("No subscriber has this address."));

    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0, "a page broke the Content-Security-Policy");
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inbound_text_shows_as_text_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let (user, pw) = owner(&app).await;
    let mut b = Browser::start("hostile_inbound", &app.base, "en-GB").await;
    b.log_in(user, pw).await;
    let hostile = r#"<script>document.title='pwned'</script> hi <img src=x onerror="document.title='pwned'">"#;
    b.goto("/sandbox").await;
    b.fill("#number", "+49 151 11112222").await;
    b.fill("#text", hostile).await;
    b.click("form.stack button[type=submit]").await;

    b.goto("/inbox").await;
    b.click("ul.cards a").await;
    assert_eq!(b.text(".thread li:not(.ours) .msg").await, hostile, "the conversation shows the message as written");
    let inside = b.js("return document.querySelectorAll('.thread .msg *').length").await;
    assert_eq!(inside, 0, "no element was made from the message");
    assert_ne!(b.js("return document.title").await, "pwned");
    // The sandbox screen shows it the same way; with more messages than fit, the newest is in view
    // (the screen is scrolled to its end, as a phone's is).
    for _ in 0..15 {
        app.service.receive(common::sandbox_message("+4915111112222", "HILFE")).await.unwrap();
    }
    common::wait_until_sent(&app.service).await;
    b.goto("/sandbox").await;
    b.click("ul.phones a").await;
    assert!(b.text(".screen").await.contains(hostile));
    let at_end = b
        .js("const s = document.querySelector('.screen'); \
             return s.scrollHeight > s.clientHeight && s.scrollTop + s.clientHeight >= s.scrollHeight - 2")
        .await;
    assert_eq!(at_end, true, "the screen shows its newest message");
    assert_eq!(b.js("return document.querySelectorAll('.screen img, .screen script').length").await, 0);
    assert_ne!(b.js("return document.title").await, "pwned");
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0, "a page broke the Content-Security-Policy");

    // The check above can fail: an inline script slipped into the page is refused and reported.
    b.js("const s = document.createElement('script'); s.textContent = 'document.title = \"pwned\"'; document.body.appendChild(s);")
        .await;
    b.wait_for(10, "the browser's CSP report", |_| async { app.service.csp_violations() > 0 }).await;
    assert_ne!(b.js("return document.title").await, "pwned");
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_the_browser_language_until_the_admin_chooses_one() {
    let app = TestApp::spawn().await;
    let (user, pw) = owner(&app).await;
    let draft = common::draft("NEWS", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sandbox]);
    app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let mut b = Browser::start("language", &app.base, "de-DE").await;
    b.goto("/login").await;
    assert_eq!(b.text("form button[type=submit]").await, "Anmelden");
    assert_eq!(b.js("return document.documentElement.lang").await, "de");
    b.log_in(user, pw).await;
    assert_eq!(b.text("main h1").await, "Übersicht");
    assert!(b.text("header nav").await.contains("Abonnenten"));
    b.goto("/broadcasts/new").await;
    b.fill("#body", "Hallo").await;
    assert!(b.text("#sms-count").await.contains("1 Teil"), "the live counter speaks German");

    // The admin's own choice wins over the browser's.
    b.goto("/account").await;
    b.client.find(Locator::Css("#language option[value=en]")).await.unwrap().click().await.unwrap();
    b.click("form[action='/account/language'] button").await;
    b.goto("/").await;
    assert_eq!(b.text("main h1").await, "Dashboard");
    assert_eq!(b.js("return document.documentElement.lang").await, "en");
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0);
    b.finish().await;
}

/// Every page an admin or a subscriber sees, for a channel with keyword NEWS, a subscriber, some
/// broadcasts and a webhook.
fn every_page(
    ch: herold::domain::ChannelId,
    sub: &str,
    broadcasts: &[herold::domain::BroadcastId],
    webhook: i64,
    drafts: &[herold::domain::DraftId],
    threads: &[herold::domain::ThreadId],
) -> Vec<String> {
    let mut pages: Vec<String> = [
        "/",
        "/channels",
        "/channels/new",
        "/subscribers",
        "/subscribers/new",
        "/subscribers/import",
        "/broadcasts",
        "/broadcasts/new",
        "/inbox",
        "/inbox?show=done",
        "/answers",
        "/sandbox",
        "/account",
        "/admins",
        "/tokens",
        "/webhooks",
        "/gateways",
        "/audit",
        "/join/news",
        "/privacy/news",
    ]
    .map(String::from)
    .to_vec();
    pages.extend([
        format!("/channels/{ch}"),
        format!("/channels/{ch}/edit"),
        format!("/subscribers/{sub}"),
        format!("/subscribers/{sub}/export"),
        format!("/webhooks/{webhook}"),
    ]);
    pages.extend(broadcasts.iter().map(|b| format!("/broadcasts/{b}")));
    pages.extend(drafts.iter().map(|d| format!("/broadcasts/drafts/{d}")));
    pages.extend(threads.iter().map(|t| format!("/inbox/{t}")));
    pages
}

/// A conversation with a question, a keyword answer and a reply from the team, taken by nobody.
async fn conversation(app: &TestApp, ch: herold::domain::ChannelId, number: &str) -> herold::domain::ThreadId {
    use herold::service::Actor;
    let s = &app.service;
    let a = herold::domain::answer::NewAnswer {
        channel: Some(ch),
        keyword: "TRAINING".into(),
        answer_de: "Dienstags 18 Uhr, Halle 2".into(),
        answer_en: "Tuesdays 6 pm, hall 2".into(),
    };
    s.add_keyword_answer(&Actor::Cli, a).await.unwrap();
    s.receive(common::sandbox_message(number, "TRAINING")).await.unwrap();
    s.receive(common::sandbox_message(
        number,
        "Darf ich einen Freund mitbringen, der noch nie Volleyball gespielt hat?",
    ))
    .await
    .unwrap();
    let (open, _) = s.threads(herold::service::threads::Filter::Open, 1, 0).await.unwrap();
    s.reply_in_thread(&Actor::Cli, open[0].id, "Gern, bring ihn mit!").await.unwrap();
    open[0].id
}

/// A draft submitted for approval and sent back with a comment (its page shows both), with a
/// second language.
async fn returned_draft(app: &TestApp, ch: herold::domain::ChannelId) -> herold::domain::DraftId {
    use herold::service::Actor;
    let w = herold::domain::draft::Written {
        kind: herold::domain::ChannelKind::Broadcast,
        title: String::new(),
        body: "Sommerfest am Samstag".into(),
        channels: vec![ch],
        send_at: Some(4_000_000_000),
        deadline: None,
        translation: Some(herold::domain::draft::ComposeTranslation {
            lang: herold::domain::keywords::Lang::En,
            title: String::new(),
            body: "Summer party on Saturday".into(),
        }),
    };
    let id = app.service.save_draft(&Actor::Cli, None, w).await.unwrap();
    app.service.submit_draft(&Actor::Cli, id).await.unwrap();
    app.service.return_draft(&Actor::Cli, id, "Bitte mit Uhrzeit und Ort").await.unwrap();
    id
}

/// A webhook for every event to an address where nothing listens, with a long path (the pages must
/// wrap it).
async fn webhook_to_nowhere(app: &TestApp) -> i64 {
    use strum::VariantArray;
    let new = herold::service::event_hooks::NewWebhook {
        url: "http://127.0.0.1:9/a/rather/long/path/of/the/receiving/system/that/a/phone/must/wrap".into(),
        events: herold::domain::event::EventKind::VARIANTS.to_vec(),
    };
    let (hook, _) = app.service.create_webhook(&herold::service::Actor::Cli, new).await.unwrap();
    hook.id
}

/// At 360 px wide no page scrolls sideways (tables scroll in their own box), and every field a person
/// fills in has a label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_labels_every_field() {
    // A Kannel gateway: the Gateways page then shows its long kannel.conf snippet and its health.
    let app = TestApp::spawn_with(|c| {
        let kind = herold::config::GatewayKind::Kannel;
        c.sms.gateways.push(common::gateway("kannel", kind, "http://127.0.0.1:9", "kannelHookSecret0123456789"));
    })
    .await;
    let (user, pw) = owner(&app).await;
    let draft = common::draft("NEWS", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sandbox]);
    let ch = app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let id = common::subscriber(&app.service, herold::domain::Transport::Sandbox, "+4915112340001", ch.id).await;
    let hook = webhook_to_nowhere(&app).await;
    let returned = returned_draft(&app, ch.id).await;
    let thread = conversation(&app, ch.id, "+4915112340001").await;
    // A newsletter channel with a long word in its name, a long link in its description, and an
    // issue with a 170-character bare link: every public page must still fit.
    let long_link = format!("https://verein.example/{}", "anmeldung-sommerfest-".repeat(7));
    let mut news = common::draft("LANG", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sandbox]);
    news.kind = herold::domain::ChannelKind::Newsletter;
    news.public_archive = true;
    news.name = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabteilung".into();
    news.description = format!("Alles auf {long_link}");
    let news = app.service.create_channel(&herold::service::Actor::Cli, news).await.unwrap();
    let mut issue = common::compose_now(news.id, &format!("Anmeldung: {long_link}"), "long-link");
    issue.kind = herold::domain::ChannelKind::Newsletter;
    issue.title = "Sommerfest".into();
    let (issue, _) = app.service.create_broadcast(&herold::service::Actor::Cli, issue).await.unwrap();
    let mut b = Browser::start("phone_width", &app.base, "en-GB").await;
    b.log_in(user, pw).await;
    b.client.set_window_size(360, 740).await.unwrap();
    let mut pages = every_page(ch.id, &id.to_string(), &[], hook, &[returned], &[thread]);
    pages.extend([
        "/join/lang".to_string(),
        "/privacy/lang".to_string(),
        "/n/lang".to_string(),
        format!("/n/lang/{}", issue.id),
        format!("/channels/{}", news.id),
    ]);
    for page in &pages {
        b.goto(page).await;
        let wide = b.js("return document.documentElement.scrollWidth").await.as_u64().unwrap();
        let view = b.js("return window.innerWidth").await.as_u64().unwrap();
        assert!(view <= 360, "the window is a phone's: {view} px");
        assert!(wide <= view, "{page} is {wide} px wide in a {view} px window");
        let unlabelled = b
            .js("return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                 .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name || e.id)")
            .await;
        assert_eq!(unlabelled, serde_json::json!([]), "{page}: fields without a label");
    }
    // The bare link in the plain newsletter is a link on its archive page.
    b.goto(&format!("/n/lang/{}", issue.id)).await;
    let href = b.js("return document.querySelector('article a') && document.querySelector('article a').href").await;
    assert_eq!(href.as_str(), Some(long_link.as_str()), "the archive links the address");
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0);
    b.finish().await;
}

/// Every page an admin or a subscriber sees, in German, says nothing in English: no role, state,
/// consent event or audit action as the code names it, no English phrase a page once had, no ISO
/// timestamp. The data behind the pages covers each kind of word (roles, states of broadcasts,
/// deliveries and subscriptions, consent events, audit actions, a paused broadcast's reason, a
/// gateway that cannot be reached).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_german_page_is_german() {
    use herold::domain::{OptInMode, Reason, Transport};
    use herold::service::Actor;
    let app = TestApp::spawn_with(|c| {
        c.sms.gateways.push(common::gateway("kannel", herold::config::GatewayKind::Kannel, "http://127.0.0.1:9", "s"));
    })
    .await;
    let s = &app.service;
    let (user, pw) = owner(&app).await;
    s.add_admin(&Actor::Cli, "bert", "bert-password-123".into(), Role::Editor).await.unwrap();
    s.add_admin(&Actor::Cli, "carla", "carla-password-123".into(), Role::Viewer).await.unwrap();
    let mut draft = common::draft("NEWS", OptInMode::Double, &[Transport::Sandbox, Transport::Sms]);
    draft.frequency =
        Some(herold::domain::channel::Frequency { max: 2, period: herold::domain::FrequencyPeriod::Week });
    let ch = s.create_channel(&Actor::Cli, draft).await.unwrap();
    // A webhook that gets every event below and cannot deliver one (its log shows why, in German).
    let hook = webhook_to_nowhere(&app).await;
    // A subscriber who opted in by message (requested, confirmed) and wrote a question.
    let number = "+4915112340009";
    let say = |text: &str| herold::service::conversation::Inbound {
        transport: Transport::Sandbox,
        from: number.into(),
        text: text.into(),
        gateway_message_id: None,
        room: None,
    };
    s.receive(say("START NEWS")).await.unwrap();
    s.receive(say("JA")).await.unwrap();
    s.receive(say("Wann ist das nächste Training?")).await.unwrap();
    let (inbox, _) = s.inbox(10, 0).await.unwrap();
    s.reply_to_inbox(&Actor::Cli, inbox[0].id, "Dienstag um 18 Uhr").await.unwrap();
    let id = s.find_subscriber(number).await.unwrap().expect("subscribed");
    // One broadcast sent, one paused before its time.
    let (sent, _) =
        s.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Training fällt aus", "a")).await.unwrap();
    let later = herold::service::broadcasts::Compose {
        send_at: Some(4_000_000_000),
        ..common::compose_now(ch.id, "Sommerfest am Samstag", "b")
    };
    let (paused, _) = s.create_broadcast(&Actor::Cli, later).await.unwrap();
    s.pause_broadcast(&Actor::Cli, paused.id, Reason::PausedByAdmin).await.unwrap();
    s.create_token(&Actor::Cli, 1, "Webseite", herold::service::Scope::Read).await.unwrap();

    let mut b = Browser::start("german", &app.base, "de-DE").await;
    b.log_in(user, pw).await;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while s.broadcast(sent.id).await.unwrap().sent == 0 {
        assert!(std::time::Instant::now() < until, "the broadcast was not sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The gateway test against a gateway that is down: its answer is a page too.
    b.goto("/gateways").await;
    b.fill("form[action='/gateways/kannel/test'] input[name=to]", "+49 151 23456789").await;
    b.click("form[action='/gateways/kannel/test'] button").await;
    let tested = b.js("return document.body.innerText").await.as_str().unwrap().to_string();
    let returned = returned_draft(&app, ch.id).await;
    let thread = conversation(&app, ch.id, number).await;
    let pages = every_page(ch.id, &id.to_string(), &[sent.id, paused.id], hook, &[returned], &[thread]);
    let english = regex::Regex::new(
        r"(?x)\b(viewer|editor|owner|active|pending|unsubscribed|expired|scheduled|sending|paused|done|cancelled
            |queued|sent|delivered|failed|single|double|day|week|month|subscriber|admin_added|inbox_replied
            |optin_requested|optin_confirmed|optout|Add\ to|unreachable|cannot\ be\ reached)\b
            |Teil\(e\)|\(s\)|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
    )
    .unwrap();
    let mut found = Vec::new();
    for c in english.find_iter(&tested) {
        found.push(format!("gateway test: {:?}", c.as_str()));
    }
    for page in &pages {
        b.goto(page).await;
        assert_eq!(b.js("return document.documentElement.lang").await, "de", "{page}");
        let text = b.js("return document.body.innerText").await.as_str().unwrap().to_string();
        for c in english.find_iter(&text) {
            let before: String =
                text[..c.start()].chars().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            let after: String = text[c.end()..].chars().take(30).collect();
            found.push(format!("{page}: {:?} in {:?}", c.as_str(), format!("{before}[{}]{after}", c.as_str())));
        }
    }
    b.goto("/broadcasts/new").await;
    b.fill("#body", "Hallo").await;
    found.extend(english.find_iter(&b.text("#sms-count").await).map(|c| format!("SMS counter: {:?}", c.as_str())));
    b.finish().await;
    assert!(found.is_empty(), "English on German pages:\n{}", found.join("\n"));
}

/// An editor chooses a member list file, checks it (line numbers for the bad rows), and imports the
/// good ones; the file picker fills the list through the page's own script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_imports_a_member_list_from_a_file() {
    let app = TestApp::spawn().await;
    let (user, pw) = owner(&app).await;
    let draft = common::draft("VEREIN", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sms]);
    let ch = app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let file = app.dir.path().join("mitglieder.csv");
    std::fs::write(
        &file,
        "Telefon;Sprache\n+49 151 23456701;de\nnicht erreichbar;de\n+49 151 23456702;en\n+49 151 23456701;de\n",
    )
    .unwrap();
    let mut b = Browser::start("import", &app.base, "en-GB").await;
    b.log_in(user, pw).await;
    b.goto("/subscribers").await;
    b.click("a[href='/subscribers/import']").await;
    b.check(&format!("input[name=channel][value='{}']", ch.id)).await;
    b.fill("#consent_source", "Mitgliederversammlung 3.5.2026, Anmeldeformular").await;
    b.client.find(Locator::Css("#csv-file")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    b.wait_for(5, "the file is read into the list", |c| async move {
        let v = c.find(Locator::Css("#csv")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
        v.contains("23456702")
    })
    .await;
    b.click("button[value=preview]").await;
    let result = b.text("section").await;
    assert!(result.contains("4 rows read") && result.contains("2 new subscribers"), "{result}");
    assert!(result.contains("1 repeated lines"), "{result}");
    assert_eq!(b.text("section tbody td").await, "3", "the bad line is named by its number");
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().1, 0, "nothing yet");
    b.click("button[value=commit]").await;
    assert!(b.text("section h2").await.contains("Imported"));
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().1, 2);
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0);
    b.finish().await;
}

/// An owner registers a webhook in the browser: the secret is shown once, the chosen events are
/// kept, the webhook's page shows a failed attempt with its reason, and removing it removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_registers_a_webhook_and_reads_its_log() {
    use herold::domain::event::EventKind;
    let app = TestApp::spawn().await;
    let (user, pw) = owner(&app).await;
    let draft = common::draft("NEWS", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sandbox]);
    app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let mut b = Browser::start("webhook", &app.base, "en-GB").await;
    b.log_in(user, pw).await;
    b.click("nav a[href='/webhooks']").await;
    b.fill("#url", "http://127.0.0.1:9/crm/herold").await;
    b.click("input[name=event][value='inbox.message']").await; // untick one
    b.click("form[action='/webhooks'] button").await;
    let secret = b.text("code.secret").await;
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    let hooks = app.service.webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert!(!hooks[0].events.contains(&EventKind::InboxMessage) && hooks[0].events.len() == 6, "{:?}", hooks[0]);
    b.goto("/webhooks").await;
    assert!(!b.js("return document.body.innerText").await.as_str().unwrap().contains("whsec_"), "shown once");

    app.service.receive(common::sandbox_message("+4915112340055", "START NEWS")).await.unwrap();
    b.click("td.url a").await;
    b.wait_for(15, "the failed attempt in the log", |c| async move {
        c.refresh().await.unwrap();
        let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap_or_default();
        text.contains("the webhook endpoint cannot be reached")
    })
    .await;
    assert!(b.text("main table").await.contains("a person is subscribed"));
    b.click("button.danger").await;
    assert_eq!(b.path().await, "/webhooks");
    assert!(app.service.webhooks().await.unwrap().is_empty());
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0);
    b.finish().await;
}

/// The editorial week in German: an editor writes a broadcast for a local time and submits it; the
/// owner sees it waiting, approves it (scheduled for that local time), takes it back into the drafts
/// to send it now instead, and it is sent. The times are typed and shown in the installation's zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_submits_and_an_owner_approves_schedules_and_sends_in_german() {
    use herold::domain::{OptInMode, Transport};
    use herold::service::Actor;
    let app = TestApp::spawn_with(|c| c.admin.editors_need_approval = true).await;
    let s = &app.service;
    let (user, pw) = owner(&app).await;
    s.add_admin(&Actor::Cli, "bert", "bert-password-123".into(), Role::Editor).await.unwrap();
    let ch =
        s.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox])).await.unwrap();
    common::subscriber(s, Transport::Sandbox, "+4915112340001", ch.id).await;

    let mut e = Browser::start("approval_editor", &app.base, "de-DE").await;
    e.log_in("bert", "bert-password-123").await;
    e.goto("/broadcasts/new").await;
    e.check(&format!("input[name=channel][value='{}']", ch.id)).await;
    e.fill("#body", "Jahresversammlung im Vereinsheim").await;
    e.js("document.getElementById('send_at').value = '2030-06-20T18:00'").await;
    assert!(
        e.js("return document.querySelector('main form[action=\"/broadcasts\"] button:not([formaction])') === null")
            .await
            .as_bool()
            .unwrap()
    );
    e.click("button[formaction='/broadcasts/submit']").await;
    assert!(e.path().await.starts_with("/broadcasts/drafts/"), "on the draft's page");
    assert!(e.text("main").await.contains("wartet auf Freigabe"));
    e.finish().await;

    let mut b = Browser::start("approval_owner", &app.base, "de-DE").await;
    b.log_in(user, pw).await;
    assert!(b.text("main").await.contains("Ein Entwurf wartet auf deine Freigabe."));
    b.goto("/broadcasts").await;
    b.click("main table a[href^='/broadcasts/drafts/']").await;
    assert_eq!(b.attr("#send_at", "value").await.as_deref(), Some("2030-06-20T18:00"), "local time in the form");
    b.click("form[action='/broadcasts'] button:not([formaction])").await;
    assert!(b.text("main").await.contains("2030-06-20 18:00 CEST"), "scheduled for the local time");
    // Sent now instead: back to the drafts, the time cleared, sent.
    b.click("form[action$='/unschedule'] button").await;
    assert!(b.path().await.starts_with("/broadcasts/drafts/"));
    b.js("document.getElementById('send_at').value = ''").await;
    b.click("form[action='/broadcasts'] button:not([formaction])").await;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = s.broadcasts(5).await.unwrap();
        if list.len() == 1 && list[0].sent == 1 {
            break;
        }
        assert!(std::time::Instant::now() < until, "the approved broadcast was not sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (log, _) = s.audit_log(50, 0).await.unwrap();
    for action in ["draft_submitted", "draft_approved", "broadcast_unscheduled", "broadcast_sent"] {
        assert!(log.iter().any(|a| a.action == action), "{action} is in the audit log");
    }
    b.goto("/audit").await;
    assert!(b.text("main").await.contains("Entwurf freigegeben"));
    settle_reports().await;
    assert_eq!(app.service.csp_violations(), 0);
    b.finish().await;
}

/// The team notices: the open count on the dashboard (and beside "Posteingang") changes while the page
/// is open when a message for the team arrives, and the conversations page in German at 360 px is
/// used by keyboard: take it, answer, mark it done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_count_changes_live_and_a_conversation_is_answered_by_keyboard_in_german() {
    use herold::domain::{OptInMode, Transport};
    use herold::service::Actor;
    let app = TestApp::spawn().await;
    let s = &app.service;
    let (user, pw) = owner(&app).await;
    s.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox])).await.unwrap();
    let number = "+4915112340001";
    s.receive(common::sandbox_message(number, "START NEWS")).await.unwrap();
    let mut b = Browser::start("conversations", &app.base, "de-DE").await;
    b.client.set_window_size(360, 740).await.unwrap();
    b.log_in(user, pw).await;
    assert_eq!(b.text("#open-threads").await, "0");
    s.receive(common::sandbox_message(number, "Wann ist die Jahresversammlung?")).await.unwrap();
    b.wait_for(10, "the open count on the dashboard", |c| async move {
        c.find(Locator::Css("#open-threads")).await.unwrap().text().await.unwrap() == "1"
    })
    .await;
    assert_eq!(b.text("header nav .badge").await, "1", "beside Posteingang too");

    // By keyboard: the first conversation, take it, answer, done.
    b.goto("/inbox").await;
    b.click("ul.cards a").await;
    assert!(b.text("main").await.contains("Wann ist die Jahresversammlung?"));
    assert!(b.text("main").await.contains("Danke für deine Nachricht!"), "the first answer, by herold");
    b.click("form[action$='/assign'] button").await;
    assert!(b.text("main").await.contains("übernommen von"));
    b.js("document.getElementById('text').focus()").await;
    b.client.active_element().await.unwrap().send_keys("Am 20. März um 19 Uhr im Vereinsheim.").await.unwrap();
    b.click("form[action$='/reply'] button").await;
    assert!(b.text("main").await.contains("Antwort ist unterwegs."));
    b.click("form[action$='/state'] button").await;
    assert!(b.text("main p").await.contains("fertig"), "the conversation is done");
    let wide = b.js("return document.documentElement.scrollWidth").await.as_u64().unwrap();
    assert!(wide <= 360, "the conversation fits a phone: {wide} px");
    b.goto("/").await;
    assert_eq!(b.text("#open-threads").await, "0");
    let (log, _) = s.audit_log(20, 0).await.unwrap();
    assert!(log.iter().any(|e| e.action == "thread_assigned") && log.iter().any(|e| e.action == "thread_closed"));
    settle_reports().await;
    assert_eq!(s.csp_violations(), 0);
    b.finish().await;
}
