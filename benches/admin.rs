//! Admin latency under load: with 1,000,000 subscribers in the database and a broadcast draining to the
//! sandbox, `wrk` (Debian package) requests the dashboard, the broadcast page and its live progress
//! fragment as a logged-in owner and reports p50/p99 (target p99 ≤ 25 ms). In-run reference: the same
//! `wrk` against `/healthz` (no database work beyond a ping).
//! Run: `cargo bench --bench admin` (`HEROLD_BENCH_QUICK=1`: 100,000 subscribers, 5 s per page).

mod common;

use std::time::{Duration, Instant};

use herold::config::Config;
use herold::domain::{Role, Transport};
use herold::service::Actor;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench admin`");
        return;
    }
    let quick = std::env::var("HEROLD_BENCH_QUICK").is_ok();
    let (n, secs) = if quick { (100_000, 5) } else { (1_000_000, 10) };
    let live = 30_000;
    let rt = herold::tuning::runtime().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".into(),
        log: "warn".into(),
        ..Config::default()
    };
    common::any_hour(&mut cfg);
    // The broadcast drains at 1,000 a second for the whole measurement.
    cfg.delivery.sandbox_per_second = 1_000;

    let t = Instant::now();
    let service = herold::app::open_service(&cfg, true).unwrap();
    let big = rt.block_on(service.create_channel(&Actor::Cli, common::draft("BIG", Transport::Sandbox))).unwrap();
    let small = rt.block_on(service.create_channel(&Actor::Cli, common::draft("LIVE", Transport::Sandbox))).unwrap();
    common::bulk_subscribers(&cfg.data_dir.join("herold.sqlite"), big.id, 100_000_000, n);
    rt.block_on(common::add_subscribers(&service, Transport::Sandbox, "+49152", small.id, live));
    rt.block_on(service.add_admin(&Actor::Cli, "bench", "bench-password-123".into(), Role::Owner)).unwrap();
    drop(service);
    println!("set-up: {n} + {live} subscribers in {:.0} s", t.elapsed().as_secs_f64());

    common::block_on_main(&rt, async {
        let app = herold::app::Application::build(&cfg).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let service = app.service().clone();
        let handle = tokio::task::spawn_local(app.run_until_stopped());

        // Log in as a browser would and keep the session cookie.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login = http.get(format!("{base}/login")).send().await.unwrap();
        let form_cookie = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .unwrap();
        let html = login.text().await.unwrap();
        let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = html[at..].split('"').next().unwrap().to_string();
        let r = http
            .post(format!("{base}/login"))
            .header("cookie", form_cookie)
            .form(&[("csrf", csrf.as_str()), ("username", "bench"), ("password", "bench-password-123")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "logged in");
        let session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("herold_session=").map(|v| v.split(';').next().unwrap().to_string()))
            .unwrap();

        let (b, _) =
            service.create_broadcast(&Actor::Cli, common::compose(small.id, "drain", "Probealarm")).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = service.broadcast(b.id).await.unwrap().sent;
        let pages = [
            ("admin_healthz", "/healthz".to_string(), "reference"),
            ("admin_dashboard", "/".to_string(), "dashboard"),
            ("admin_broadcast", format!("/broadcasts/{}", b.id), "broadcast page"),
            ("admin_progress", format!("/broadcasts/{}/progress", b.id), "live progress fragment"),
        ];
        println!("admin latency with {n} subscribers while a broadcast drains (wrk, 8 connections, {secs} s each):");
        let mut reference = f64::NAN;
        for (name, path, what) in pages {
            let url = format!("{base}{path}");
            let (rps, p50, p99) = common::off_runtime({
                let session = session.clone();
                move || {
                    let (_, rps, p50, p99) =
                        common::wrk(&url, &[format!("Cookie: herold_session={session}")], None, 8, secs);
                    (rps, p50, p99)
                }
            })
            .await;
            println!("  {what:<24} p50 {p50:>6.2} ms  p99 {p99:>6.2} ms  {rps:>7.0} req/s");
            if name == "admin_healthz" {
                reference = p99;
            } else {
                common::report(&format!("{name}_p50"), p50, "ms", None, "");
                common::report(&format!("{name}_p99"), p99, "ms", Some((reference, "p99 of /healthz")), "≤ 25 ms");
            }
        }
        let after = service.broadcast(b.id).await.unwrap();
        println!(
            "  the broadcast sent {} deliveries during the measurement ({} of {} in all, state {})",
            after.sent - before,
            after.sent,
            after.total,
            after.state
        );
        handle.abort();
    });
}
