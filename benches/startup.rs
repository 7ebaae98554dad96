//! The release binary: its size, the time from start to ready (`/healthz` answers 200) on a fresh data
//! directory and on a restart (target ≤ 200 ms without Matrix), and its idle memory (target ≤ 40 MB).
//! In-run reference: the same start-up time for `herold --version`, which opens nothing (median of 5
//! after one run that brings the binary into the page cache).
//! Run: `cargo bench --bench startup` (`--no-default-features` measures the binary without Matrix).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

/// Starts `herold serve` on `data` and returns the milliseconds until `/healthz` answers, with the
/// running child.
fn start(data: &std::path::Path) -> (f64, std::process::Child, u16) {
    let port = free_port();
    let t = Instant::now();
    let child = common::herold_command(env!("CARGO_BIN_EXE_herold").as_ref())
        .args(["--data-dir", data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("HEROLD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !healthy(port) {
        assert!(t.elapsed() < Duration::from_secs(20), "herold did not become ready");
        std::thread::sleep(Duration::from_millis(2));
    }
    (t.elapsed().as_secs_f64() * 1000.0, child, port)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench startup`");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_herold");
    let size = std::fs::metadata(bin).unwrap().len() as f64 / 1_048_576.0;
    let matrix = cfg!(feature = "matrix");
    println!("release binary{}: {size:.1} MB", if matrix { " (with Matrix)" } else { " (without Matrix)" });

    // The first run of a freshly linked binary reads it from disk (1.1 s once here): one run to warm
    // the page cache, then the median of five, like the restarts below.
    let version = || {
        let t = Instant::now();
        assert!(Command::new(bin).arg("--version").stdout(Stdio::null()).status().unwrap().success());
        t.elapsed().as_secs_f64() * 1000.0
    };
    version();
    let mut versions: Vec<f64> = (0..5).map(|_| version()).collect();
    versions.sort_by(f64::total_cmp);
    let version_ms = versions[2];

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (fresh, mut child, _) = start(&data);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut restarts = vec![];
    let mut idle = (f64::NAN, f64::NAN, f64::NAN);
    for i in 0..5 {
        let (ms, mut child, port) = start(&data);
        restarts.push(ms);
        if i == 4 {
            std::thread::sleep(Duration::from_secs(3));
            assert!(healthy(port));
            idle = common::memory_mb(child.id());
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    restarts.sort_by(f64::total_cmp);
    let median = restarts[restarts.len() / 2];
    println!(
        "start to ready: fresh data directory {fresh:.0} ms, restart (median of 5) {median:.0} ms (target ≤ 200 ms)"
    );
    println!("  reference, `herold --version` (median of 5): {version_ms:.1} ms");
    let (rss, anon, file) = idle;
    println!(
        "idle memory after start: {rss:.1} MB RSS ({anon:.1} MB anonymous, {file:.1} MB file-backed; target ≤ 40 MB)"
    );
    common::report(if matrix { "binary_size_with_matrix" } else { "binary_size_without_matrix" }, size, "MB", None, "");
    common::report("start_to_ready_fresh", fresh, "ms", Some((version_ms, "herold --version, ms")), "≤ 200 ms");
    common::report("start_to_ready_restart", median, "ms", Some((version_ms, "herold --version, ms")), "≤ 200 ms");
    common::report("idle_rss_without_matrix_bot", rss, "MB", Some((anon, "of it anonymous, MB")), "≤ 40 MB");
}
