//! A real headless Chromium driven over WebDriver (chromedriver from the Debian packages that
//! `scripts/setup-peers` installs). Every step keeps a screenshot; when a test fails they are written
//! under `target/browser/<test>/` so the failing pages can be seen.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    base: String,
    test: String,
    shots: Vec<(String, Vec<u8>)>,
    profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose preferred language is `lang`.
    pub async fn start(test: &str, base: &str, lang: &str) -> Self {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(std::path::Path::new(bin).exists(), "{bin} is missing: run scripts/setup-peers");
        }
        let port = free_port();
        let profile = tempfile::tempdir().unwrap();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1280,1000", format!("--lang={lang}"),
                         format!("--user-data-dir={}", profile.path().display())],
                "prefs": { "intl.accept_languages": lang }
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session from chromedriver: {e}"),
            }
        };
        Self { client, driver, base: base.to_string(), test: test.to_string(), shots: Vec::new(), profile }
    }

    pub async fn goto(&mut self, path: &str) {
        self.client.goto(&format!("{}{}", self.base, path)).await.expect("navigation");
        self.shot(path).await;
    }

    /// Keeps a screenshot of the page as it is now, named after the step.
    pub async fn shot(&mut self, step: &str) {
        if let Ok(png) = self.client.screenshot().await {
            self.shots.push((step.to_string(), png));
        }
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    pub async fn click(&mut self, css: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        e.click().await.unwrap();
        self.shot(css).await;
    }

    /// Ticks a checkbox (leaves it ticked if it was).
    pub async fn check(&self, css: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        if !e.is_selected().await.unwrap() {
            e.click().await.unwrap();
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        e.text().await.unwrap()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        e.attr(name).await.unwrap()
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("script runs")
    }

    /// Waits up to `secs` for `check` to hold, then fails with `what`.
    pub async fn wait_for<F, Fut>(&mut self, secs: u64, what: &str, mut check: F)
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = bool>,
    {
        let started = Instant::now();
        while !check(self.client.clone()).await {
            if started.elapsed() > Duration::from_secs(secs) {
                self.shot(what).await;
                panic!("waited {secs} s for: {what}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.shot(what).await;
    }

    /// Logs in through the login form.
    pub async fn log_in(&mut self, user: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        assert_eq!(self.path().await, "/", "logged in");
    }

    /// Ends the WebDriver session (Chromium exits).
    pub async fn finish(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A failed test leaves its screenshots under `target/browser/<test>/`; chromedriver and the
/// Chromium it started end with it either way.
impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("browser").join(&self.test);
            let _ = std::fs::create_dir_all(&dir);
            for (i, (step, png)) in self.shots.iter().enumerate() {
                let name: String =
                    step.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(40).collect();
                let _ = std::fs::write(dir.join(format!("{i:02}-{name}.png")), png);
            }
            eprintln!("browser screenshots of {}: {}", self.test, dir.display());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = Command::new("pkill").arg("-f").arg(self.profile.path()).status();
    }
}
