//! Importing a member list: 10,000 CSV rows (phone numbers, German and English) previewed and then
//! committed into a channel, on a real SQLite file (target: the commit in ≤ 5 s). In-run reference: the
//! same 10,000 added as one list through `add_subscribers` (the admin's and the API's bulk path),
//! which the import builds on.
//! Run: `cargo bench --bench import` (`HEROLD_BENCH_QUICK=1`: 2,000 rows).

mod common;

use std::time::Instant;

use herold::config::Config;
use herold::domain::Transport;
use herold::service::Actor;
use herold::service::import::ImportRequest;
use herold::service::subscribers::AddSubscriber;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench import`");
        return;
    }
    let n = if std::env::var("HEROLD_BENCH_QUICK").is_ok() { 2_000 } else { 10_000 };
    let rt = herold::tuning::runtime().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    let service = herold::app::open_service(&cfg, true).unwrap();
    rt.block_on(async {
        let list = service.create_channel(&Actor::Cli, common::draft("LISTE", Transport::Sms)).await.unwrap();
        let reference = service.create_channel(&Actor::Cli, common::draft("REF", Transport::Sms)).await.unwrap();
        let number = |i: usize| format!("+49151{:08}", 10_000_000 + i);
        let mut csv = String::from("Nummer;Sprache\n");
        for i in 0..n {
            csv.push_str(&format!("{};{}\n", number(i), if i % 3 == 0 { "en" } else { "de" }));
        }
        let req = ImportRequest { channels: vec![list.id], csv, consent_source: "Mitgliederliste 2026".into(), mode: Default::default() };

        let t = Instant::now();
        let preview = service.import_preview(req.clone()).await.unwrap();
        let preview_s = t.elapsed().as_secs_f64();
        assert_eq!((preview.new, preview.errors.len()), (n, 0));
        let t = Instant::now();
        let done = service.import_commit(&Actor::Cli, req).await.unwrap();
        let commit_s = t.elapsed().as_secs_f64();
        assert_eq!(done.subscriptions, n);

        let reqs: Vec<AddSubscriber> = (n..2 * n)
            .map(|i| AddSubscriber {
                transport: Transport::Sms,
                address: number(i),
                language: "de".into(),
                channels: vec![reference.id],
                consent_note: "Mitgliederliste 2026".into(),
            })
            .collect();
        let t = Instant::now();
        service.add_subscribers(&Actor::Cli, reqs).await.unwrap();
        let bulk_s = t.elapsed().as_secs_f64();

        println!("import of {n} rows: preview {preview_s:.2} s, commit {commit_s:.2} s (add_subscribers of {n}: {bulk_s:.2} s)");
        common::report("import_preview_s", preview_s, "s", Some((bulk_s, "add_subscribers of the same count")), "-");
        common::report("import_commit_s", commit_s, "s", Some((bulk_s, "add_subscribers of the same count")), "≤ 5 s for 10,000");
    });
}
