//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through `chromedriver`: open a
//! page, read it, click a button, switch tabs. A real browser clicking a real button; no crate beyond reqwest.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key W3C WebDriver names a found element by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver`, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

/// One browser session.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

fn program(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

impl Driver {
    /// Starts `chromedriver` (`CHROMEDRIVER`, else the one on PATH) on a free loopback port.
    pub async fn start() -> Driver {
        let bin = program("CHROMEDRIVER", "chromedriver");
        let port = crate::support::closed_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{bin} could not start ({e}): run `make browser` (Debian's chromium and chromium-driver)")
            });
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver.call("GET", "/status", None).await;
            if ready.is_ok_and(|s| s["ready"] == true) {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url),
        };
        let body = body.unwrap_or_else(|| json!({})).to_string();
        let request = match method {
            "POST" => request
                .header("content-type", "application/json")
                .body(body),
            _ => request,
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        match answer["value"].get("error") {
            Some(error) => Err(format!("{error}: {}", answer["value"]["message"])),
            None => Ok(answer["value"].clone()),
        }
    }

    /// A headless Chromium (`CHROMIUM`, else Debian's `/usr/bin/chromium`) the size of a phone.
    pub async fn session(&self) -> Session<'_> {
        let binary = program("CHROMIUM", "/usr/bin/chromium");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-extensions"],
                "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0},
                    "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0 Mobile Safari/537.36"}
            }
        }}});
        let created = self
            .call("POST", "/session", Some(capabilities))
            .await
            .unwrap_or_else(|e| panic!("no browser session ({e}): run `make browser`"));
        let id = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let session = Session { driver: self, id };
        session
            .post("/timeouts", json!({"pageLoad": 15000, "implicit": 0}))
            .await;
        session
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Session<'_> {
    async fn post(&self, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver
            .call("POST", &path, Some(body))
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    async fn get(&self, path: &str) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver
            .call("GET", &path, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn open(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT].as_str().expect("an element id").to_owned()
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self.get(&format!("/element/{element}/text")).await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The element's text, or `None` while the page is being replaced (the element went stale, or is not there
    /// yet).
    pub async fn text_now(&self, css: &str) -> Option<String> {
        let path = format!("/session/{}/element", self.id);
        let body = json!({"using": "css selector", "value": css});
        let found = self.driver.call("POST", &path, Some(body)).await.ok()?;
        let element = found[ELEMENT].as_str()?;
        let path = format!("/session/{}/element/{element}/text", self.id);
        let text = self.driver.call("GET", &path, None).await.ok()?;
        text.as_str().map(str::to_owned)
    }

    /// Clicks the element, as a person would (it must be visible and not covered), and waits for the page that
    /// follows.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// The element's place on the page: x, y, width, height.
    pub async fn rect(&self, css: &str) -> (f64, f64, f64, f64) {
        let element = self.find(css).await;
        let r = self.get(&format!("/element/{element}/rect")).await;
        let n = |k: &str| r[k].as_f64().unwrap_or(-1.0);
        (n("x"), n("y"), n("width"), n("height"))
    }

    /// A computed style property of the element.
    pub async fn css(&self, css: &str, property: &str) -> String {
        let element = self.find(css).await;
        let value = self
            .get(&format!("/element/{element}/css/{property}"))
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn source(&self) -> String {
        self.get("/source")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn current_window(&self) -> String {
        self.get("/window")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Opens a new tab and switches to it; returns the tab's handle.
    pub async fn new_tab(&self) -> String {
        let tab = self.post("/window/new", json!({"type": "tab"})).await;
        let handle = tab["handle"].as_str().expect("a window handle").to_owned();
        self.switch_to(&handle).await;
        handle
    }

    pub async fn switch_to(&self, handle: &str) {
        self.post("/window", json!({"handle": handle})).await;
    }

    pub async fn quit(self) {
        let path = format!("/session/{}", self.id);
        let _ = self.driver.call("DELETE", &path, None).await;
    }
}
