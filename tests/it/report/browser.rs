//! The whole thing in a real browser: Debian's Chromium, headless, the size of a phone, through `chromedriver`.
//! The notice goes out through SES (moto), the link is taken from the sent e-mail, the page is read, the button
//! clicked, the result read, and the button of the same page opened in a second tab clicked again.

use std::time::{Duration, Instant};

use profile_guard::endpoint::{ServeLimits, serve};
use tokio::sync::oneshot;

use super::webdriver::{Driver, Session};
use super::{KEY, change, fresh, link_in};
use crate::support::{SesScope, TestApp};

/// The service on a real loopback socket, its links pointing at it, sending through SES.
struct Served {
    app: TestApp,
    ses: SesScope,
    base: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start() -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let ses = SesScope::new().await;
        let mut vars = ses.vars();
        vars.extend([
            ("REPORT_URL_BASE", base.as_str()),
            ("REPORT_LINK_SECRET", KEY),
        ]);
        let app = TestApp::new(&vars).await;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let server = tokio::spawn(serve(
            listener,
            app.router.clone(),
            ServeLimits::default(),
            shutdown,
        ));
        Served {
            app,
            ses,
            base,
            stop,
            server,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// The first heading, once it reads `want` (a click's page may take a moment to replace the last one).
async fn heading(browser: &Session<'_>, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = browser.text_now("h1").await.unwrap_or_default();
        if text == want || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page a link opens, read as the person reads it on their phone.
async fn read_the_page(browser: &Session<'_>, link: &str) {
    browser.open(link).await;
    assert_eq!(browser.text("h1").await, "Did you make this change?");
    let what = browser.text("main").await;
    assert!(what.contains("Mobile number: +9477*****48"), "{what}");
    assert!(
        what.contains("testwso2") && what.contains("by an administrator"),
        "{what}"
    );
    assert!(!what.contains("+94771223448"), "{what}");
    // The button fits the screen, and the style sheet the policy allows was applied.
    assert_eq!(browser.text("button").await, "This wasn't me");
    let (x, _, width, height) = browser.rect("button").await;
    assert!(
        x >= 0.0 && x + width <= 390.0 && height >= 40.0,
        "{x} {width} {height}"
    );
    let red = browser.css("button", "background-color").await;
    assert_eq!(red, "rgba(179, 38, 30, 1)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reports_a_change_from_the_link_in_their_email() {
    let started = Instant::now();
    let served = Served::start().await;
    let (app, ses) = (&served.app, &served.ses);
    let user = fresh("u");
    assert_eq!(app.post(change(&user, &fresh("rq"))).await.status, 200);
    let notice = ses.notices().await.pop().expect("the notice was e-mailed");
    let link = link_in(&notice.body).expect("the e-mail has the link");
    assert!(
        link.starts_with(&format!("{}/report?t=", served.base)),
        "{link}"
    );
    let alerts_before = ses.alerts().await.len();

    let driver = Driver::start().await;
    let browser = driver.session().await;
    read_the_page(&browser, &link).await;
    let first_tab = browser.current_window().await;
    // The same link opened a second time before any click (the mail opened twice, say): a second button.
    let second_tab = browser.new_tab().await;
    read_the_page(&browser, &link).await;

    browser.switch_to(&first_tab).await;
    browser.click("button").await;
    let done = "Thank you, the security team has been told";
    assert_eq!(
        heading(&browser, done).await,
        done,
        "{}",
        browser.source().await
    );
    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), alerts_before + 1);
    let alert = alerts.last().unwrap();
    assert!(alert.subject.contains("URGENT") && alert.subject.contains(&user));
    assert!(
        alert.body.contains("127.0.0.1") && alert.body.contains("Pixel 8"),
        "{}",
        alert.body
    );

    // Click again: the second tab's button.
    browser.switch_to(&second_tab).await;
    browser.click("button").await;
    let again = "Already reported";
    assert_eq!(
        heading(&browser, again).await,
        again,
        "{}",
        browser.source().await
    );
    // And the link opened once more shows no button at all.
    browser.open(&link).await;
    assert_eq!(browser.text("h1").await, again);
    assert_eq!(
        ses.alerts().await.len(),
        alerts_before + 1,
        "one report, one alert"
    );

    browser.quit().await;
    drop(driver);
    served.stop().await;
    eprintln!("browser test took {} ms", started.elapsed().as_millis());
}
