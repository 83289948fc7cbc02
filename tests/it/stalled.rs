//! Stalled clients: a connection that sends nothing or half a header is dropped after the header limit, a body
//! that does not arrive is answered within the call's deadline and its connection closed, and meanwhile other
//! callers are answered quickly. Loopback only, every wait bounded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use bytes::Bytes;
use profile_guard::endpoint::{ServeLimits, serve};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestApp, capture, success, tutorial};

const HEADER_LIMIT: Duration = Duration::from_millis(500);
const DEADLINE: Duration = Duration::from_millis(800);
/// Connections that send nothing, and as many that stop in the middle of a header line. Both ends of every
/// connection live in this process: about 620 descriptors, within the usual soft limit of 1024.
const SILENT: usize = 150;
const HALF_HEADER: usize = 150;
const STALLED_BODY: usize = 5;

const MINIMAL: &str = r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#;

fn body_unreadable() -> Value {
    json!({"actionStatus": "ERROR", "errorMessage": "invalid_request",
           "errorDescription": "The request body could not be read."})
}

async fn connect(addr: SocketAddr, first_bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(first_bytes).await.unwrap();
    stream
}

/// Reads one whole answer up to the end of the connection: status line and JSON body.
async fn answer_then_eof(stream: &mut TcpStream) -> (String, String, Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status_line = head.lines().next().unwrap().to_owned();
    (
        status_line,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap(),
    )
}

/// Connections that stop before their headers end (half of them before sending anything).
async fn open_stalled_heads(addr: SocketAddr) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..SILENT {
        streams.push(connect(addr, b"").await);
    }
    for _ in 0..HALF_HEADER {
        let half = b"POST /pre-update-profile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty";
        streams.push(connect(addr, half).await);
    }
    streams
}

/// Requests whose headers promise 100 bytes of body, of which 13 come.
async fn open_stalled_bodies(addr: SocketAddr) -> Vec<TcpStream> {
    let head = "POST /pre-update-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"actionType\"";
    let mut streams = Vec::new();
    for _ in 0..STALLED_BODY {
        streams.push(connect(addr, head.as_bytes()).await);
    }
    streams
}

/// A well-behaved caller, a dozen times over about a second: each answer comes within a second.
async fn assert_answered_quickly(addr: SocketAddr) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..12 {
        let started = Instant::now();
        let response = client
            .post(format!("http://{addr}/pre-update-profile"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(MINIMAL)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(body, success());
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "a normal call took {took:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each stream is closed by `by` without the server having written a byte.
async fn assert_closed_silently(streams: &mut [TcpStream], by: Instant) {
    for stream in streams {
        let mut buf = [0u8; 64];
        match tokio::time::timeout_at(by.into(), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {}
            Ok(Ok(n)) => panic!("the server wrote to a stalled connection: {:?}", &buf[..n]),
            Err(_) => panic!("a stalled connection is still open"),
        }
    }
}

#[tokio::test]
async fn stalled_clients_are_cut_off_while_others_are_answered() {
    let (logs, _guard) = capture();
    let app = TestApp::new(&[("DEADLINE_MS", "800")]).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = ServeLimits {
        header_read_timeout: HEADER_LIMIT,
    };
    let server = tokio::spawn(serve(listener, app.router.clone(), limits, async {
        let _ = stopped.await;
    }));

    let opened = Instant::now();
    let mut stalled_heads = open_stalled_heads(addr).await;
    let mut stalled_bodies = open_stalled_bodies(addr).await;
    let body_sent = Instant::now();
    // Before, while and after the stalled ones are cut off.
    assert_answered_quickly(addr).await;

    // A body that never arrives: a JSON ERROR at the deadline, then the connection is closed.
    for stream in &mut stalled_bodies {
        let read = timeout(DEADLINE + Duration::from_secs(2), answer_then_eof(stream));
        let (status_line, head, body) = read.await.expect("answer and close in time");
        assert_eq!(status_line, "HTTP/1.1 400 Bad Request");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(body, body_unreadable());
    }
    let took = body_sent.elapsed();
    assert!(took < DEADLINE + Duration::from_millis(1500), "{took:?}");
    let audits = logs.take_audits();
    let late: Vec<&Value> = audits
        .iter()
        .filter(|a| a["reason"] == "invalid_request")
        .collect();
    assert_eq!(late.len(), STALLED_BODY, "{audits:#?}");
    assert!(
        late.iter().all(|a| a["http_status"] == 400
            && a["detail"] == "body not received within the deadline of 800 ms"),
        "{late:#?}"
    );

    // Headers that never complete: the connection is closed without a word.
    assert_closed_silently(
        &mut stalled_heads,
        opened + HEADER_LIMIT + Duration::from_secs(1),
    )
    .await;

    // Graceful shutdown still ends the server.
    stop.send(()).unwrap();
    timeout(Duration::from_secs(3), server)
        .await
        .expect("the server stops")
        .unwrap();
}

/// A request body fed by the test: chunks as they are sent, the end when the sender is dropped.
fn fed_body() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    (tx, Body::from_stream(stream))
}

fn post(body: Body) -> Request<Body> {
    Request::post("/pre-update-profile")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn the_deadline_counts_from_the_arrival_of_the_call_body_read_included() {
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&directory)
        .await;
    let url = format!("{}/departments/{{department}}", directory.uri());
    let app = TestApp::new(&[
        ("DEPARTMENT_API_URL", url.as_str()),
        ("DEPARTMENT_API_TIMEOUT_MS", "2000"),
        ("DEADLINE_MS", "800"),
    ])
    .await;

    // 400 ms to read the body and 500 ms in the directory: over the 800 ms of the whole call.
    let (tx, body) = fed_body();
    let whole = Bytes::from(tutorial());
    tokio::spawn(async move {
        tx.send(whole.slice(..10)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        tx.send(whole.slice(10..)).await.unwrap();
    });
    let started = Instant::now();
    let answer = timeout(Duration::from_secs(3), app.request(post(body)))
        .await
        .expect("answered in time");
    let took = started.elapsed();
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body,
        json!({"actionStatus": "ERROR", "errorMessage": "deadline_exceeded",
               "errorDescription": "profile-guard could not finish its checks in time."})
    );
    assert!(
        took >= Duration::from_millis(790) && took < Duration::from_millis(1000),
        "{took:?}"
    );

    // A body that stops half-way is answered at the deadline.
    let (tx, body) = fed_body();
    tx.send(Bytes::from_static(b"{\"actionType\""))
        .await
        .unwrap();
    let started = Instant::now();
    let answer = timeout(Duration::from_secs(3), app.request(post(body)))
        .await
        .expect("answered in time");
    let took = started.elapsed();
    drop(tx);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body, body_unreadable());
    assert!(
        took >= Duration::from_millis(790) && took < Duration::from_millis(1000),
        "{took:?}"
    );
}
