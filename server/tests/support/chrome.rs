//! A real headless browser for the end-to-end tests: Debian's chromium driven through
//! chromedriver over the WebDriver protocol. [`Driver`] starts chromedriver on a free port;
//! [`Chrome`] is one browser session (navigate, find, click, type, screenshot, the console's
//! Content-Security-Policy reports).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-output/web")
}

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub async fn start_driver(http: &reqwest::Client) -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
            && r.status().is_success()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not come up on port {port}");
}

/// One browser session, driven over the WebDriver protocol.
pub struct Chrome {
    http: reqwest::Client,
    session: String,
    base: String,
    shots: PathBuf,
}

impl Chrome {
    pub async fn open(http: reqwest::Client, driver: &Driver, base: &str, shots: &Path) -> Chrome {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1024", "--lang=ru"]
            }
        }}});
        let r: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Chrome {
            http,
            session: format!("{}/session/{session}", driver.url),
            base: base.to_string(),
            shots: shots.to_path_buf(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let r: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        r["value"].clone()
    }

    pub async fn go(&self, path: &str) {
        self.call(
            "POST",
            "/url",
            Some(json!({"url": format!("{}{path}", self.base)})),
        )
        .await;
    }

    pub async fn url(&self) -> String {
        self.call("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn try_find(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// The element, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let source = self.call("GET", "/source", None).await;
        panic!(
            "no `{css}` on {}:\n{}",
            self.url().await,
            source.as_str().unwrap_or_default()
        );
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), None)
            .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/clear"), None)
            .await;
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Sets a field's value directly (date inputs take typed text by locale).
    pub async fn set(&self, name: &str, value: &str) {
        self.find(&format!("[name=\"{name}\"]")).await;
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "var e = document.querySelector('[name=\"' + arguments[0] + '\"]'); e.value = arguments[1];",
                "args": [name, value]
            })),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn shot(&self, name: &str) {
        let b64 = self.call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("a PNG screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn wait_url(&self, part: &str) {
        for _ in 0..100 {
            if self.url().await.contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never reached {part}; at {}", self.url().await);
    }

    pub async fn sign_in(&self, login: &str) {
        self.call("DELETE", "/cookie", None).await;
        self.go("/signin").await;
        self.type_into("#login", login).await;
        self.type_into("#password", DEMO_PASSWORD).await;
        self.click("form[action=\"/signin\"] button[type=submit]")
            .await;
        self.wait_url("/inbox").await;
    }

    /// Claims the inbox task of `case` with one click, fills the form, presses `button`.
    pub async fn work(&self, case: &str, fields: &[(&str, &str)], button: &str, shot: &str) {
        self.go("/inbox").await;
        let row = format!("tr[id^=\"task-{case}:\"]");
        self.click(&format!("{row} form button")).await;
        self.wait_url("notice=claimed_ok").await;
        for (name, value) in fields {
            if *value == "click" {
                self.click(&format!("[name=\"{name}\"]")).await;
            } else {
                self.set(name, value).await;
            }
        }
        self.shot(shot).await;
        self.click(button).await;
        self.wait_url("/inbox?notice=done").await;
    }

    /// What the browser's console said since the last call that mentions the page's
    /// Content-Security-Policy (a refused script, style, frame or form target).
    pub async fn csp_violations(&self) -> Vec<String> {
        let log = self
            .call("POST", "/se/log", Some(json!({"type": "browser"})))
            .await;
        let entries = log
            .as_array()
            .unwrap_or_else(|| panic!("chromedriver gives no browser log: {log}"));
        entries
            .iter()
            .filter_map(|e| e["message"].as_str())
            .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
            .map(str::to_string)
            .collect()
    }

    /// Prints the page to PDF on paper `width_cm` wide and `height_cm` high (the print
    /// stylesheet applies), saved as `<name>.pdf` beside the screenshots; its size in bytes.
    pub async fn print_pdf(&self, width_cm: f64, height_cm: f64, name: &str) -> usize {
        let b64 = self
            .call(
                "POST",
                "/print",
                Some(json!({"page": {"width": width_cm, "height": height_cm},
                            "margin": {"top": 0.3, "bottom": 0.3, "left": 0.3, "right": 0.3},
                            "background": false})),
            )
            .await;
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("a PDF");
        assert!(pdf.starts_with(b"%PDF"), "not a PDF");
        std::fs::write(self.shots.join(format!("{name}.pdf")), &pdf).expect("write PDF");
        pdf.len()
    }

    /// Sets the window's size (the page reflows as on a device that wide).
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// The page's text as a reader sees it (`innerText`: no markup, no hidden elements).
    pub async fn visible_text(&self) -> String {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.body.innerText;", "args": []})),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// What axe-core finds against WCAG 2.1 A and AA on the current page, a line per rule
    /// broken: `rule: what it asks — where`. `script` is axe-core's own ([`axe_script`]).
    pub async fn axe(&self, script: &str) -> Vec<String> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await;
        let run = "var done = arguments[arguments.length - 1];\
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
              .then(function (r) { done(r.violations.map(function (v) {\
                return v.id + ': ' + v.help + ' — ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', ');\
              })); })\
              .catch(function (e) { done(['axe did not run: ' + e]); });";
        let found = self
            .call(
                "POST",
                "/execute/async",
                Some(json!({"script": run, "args": []})),
            )
            .await;
        match found.as_array() {
            Some(lines) => lines
                .iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect(),
            None => vec![format!("axe gave no answer: {found}")],
        }
    }

    pub async fn close(&self) {
        self.call("DELETE", "", None).await;
    }
}

/// axe-core's script, when `bash .ci/web-tools.sh` installed it.
pub fn axe_script() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/web-tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path).ok()
}

pub fn tools_present() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
}
