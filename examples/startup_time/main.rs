//! Start-up time (`make startup-time`).
//!
//! 1. Local mode: time from exec of the release binary to its first answered POST /pre-update-profile, median of
//!    STARTUP_RUNS (10) runs, each on a fresh free loopback port with the default configuration. The probe is a
//!    plain TCP connection from this driver (no process start per attempt, so the figure is the server's, not the
//!    poller's); the same is then measured polling with curl, whose own start-up (a few ms per attempt) is in it.
//! 2. Lambda mode (lambda.rs): the same binary under `cargo lambda watch --only-lambda-apis`, from exec to the
//!    answer of an invoke already waiting. Skipped when cargo-lambda is not installed (`make venv`).
//! 3. The release zip's size (zip.rs), when target/lambda/profile-guard/bootstrap.zip exists (`make build`).
//!
//! Knobs: STARTUP_RUNS (10), STARTUP_SKIP_BUILD (0), STARTUP_LAMBDA (1); MEASURE_PROFILE=debug checks the driver
//! itself quickly against a debug build.
//!
//!     cargo run --example startup_time

#[path = "../driver/mod.rs"]
mod driver;
mod lambda;
mod zip;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use driver::process::{self, Launch};
use driver::stats::{median, min_max, ms};
use driver::{Failure, knob};

#[tokio::main]
async fn main() -> ExitCode {
    driver::until_interrupted("startup_time", run()).await
}

async fn run() -> Result<(), Failure> {
    let runs = knob("STARTUP_RUNS", 10u32).clamp(1, 1000);
    if knob("STARTUP_SKIP_BUILD", 0) != 1 {
        println!(
            "building the {} binary (profile-guard)...",
            process::measured_profile()
        );
        process::build_measured(&["--bin", "profile-guard"]).await?;
    }
    let target = process::target_dir()?;
    let server = process::measured(&target, "profile-guard");
    if !server.is_file() {
        return Err(Failure::missing(format!("{} missing", server.display())));
    }
    let body = std::fs::read_to_string(
        process::repo_root().join("events/bodies/non-sensitive-change.json"),
    )?
    .replace('\n', "");
    local_mode(&server, &body, runs).await?;
    if knob("STARTUP_LAMBDA", 1) == 1 {
        lambda::measure(&server, runs).await?;
    }
    zip::report(&target, &server).await;
    Ok(())
}

async fn local_mode(server: &Path, body: &str, runs: u32) -> Result<(), Failure> {
    println!();
    println!(
        "local mode: exec -> first answered POST ({} binary, default configuration), {runs} runs",
        process::measured_profile()
    );
    one_start(server, body, Probe::Tcp).await?; // page cache warm
    let mut tcp = Vec::new();
    for _ in 0..runs {
        tcp.push(one_start(server, body, Probe::Tcp).await?);
    }
    let mut curl = Vec::new();
    for _ in 0..runs {
        curl.push(one_start(server, body, Probe::Curl).await?);
    }
    let each: Vec<String> = tcp.iter().map(|v| format!("{v:.2}")).collect();
    let (lo, hi) = min_max(&tcp);
    println!(
        "  probe TCP:   median {:.2} ms  (min {lo:.2}  max {hi:.2}; runs: {})",
        median(&tcp),
        each.join(" ")
    );
    println!("  probe curl:  {}", summary(&curl));
    println!("  target: < 50 ms");
    Ok(())
}

/// `median M ms  (min A  max B)`.
pub fn summary(values: &[f64]) -> String {
    let (lo, hi) = min_max(values);
    format!(
        "median {:.2} ms  (min {lo:.2}  max {hi:.2})",
        median(values)
    )
}

#[derive(Clone, Copy)]
enum Probe {
    /// One POST over a TCP connection of the driver's own.
    Tcp,
    /// One `curl` process per attempt.
    Curl,
}

impl Probe {
    /// Whether one POST to 127.0.0.1:`port` is answered 200.
    fn answers(self, port: u16, body: &str) -> bool {
        match self {
            Probe::Tcp => tcp_answers(port, body).unwrap_or(false),
            Probe::Curl => Command::new("curl")
                .args([
                    "-sf",
                    "-o",
                    "/dev/null",
                    "-m",
                    "5",
                    "-H",
                    "content-type: application/json",
                ])
                .arg("--data-binary")
                .arg(body)
                .arg(format!("http://127.0.0.1:{port}/pre-update-profile"))
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
    }
}

fn tcp_answers(port: u16, body: &str) -> std::io::Result<bool> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST /pre-update-profile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    Ok(head.starts_with(b"HTTP/1.1 200"))
}

/// Milliseconds from exec to the first answered POST. The probe blocks between attempts on purpose: nothing else
/// runs meanwhile, and a busy loop notices the answer first.
async fn one_start(server: &Path, body: &str, probe: Probe) -> Result<f64, Failure> {
    let port = process::free_port()?;
    let started = Instant::now();
    let mut process = process::spawn(Launch {
        name: "profile-guard",
        program: server,
        env: vec![
            ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
            ("RUST_LOG", "warn".into()),
        ],
        cpu: None,
        log: None,
        stdout_in_log: false,
    })?;
    let mut tries = 0u32;
    while !probe.answers(port, body) {
        tries += 1;
        if tries > 200_000 || started.elapsed() > Duration::from_secs(30) || process.has_exited() {
            return Err(Failure::broken(format!(
                "profile-guard did not answer on 127.0.0.1:{port}"
            )));
        }
    }
    let elapsed = ms(started.elapsed());
    process.stop().await;
    Ok(elapsed)
}
