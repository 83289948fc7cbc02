//! Load with a failing directory (`make load-faults`): a bounded load run against the local release server whose
//! department directory is examples/directory_stub.rs on loopback, which answers 500 for ~10 % of calls, sleeps
//! past the directory timeout for ~5 %, 404 for unknown departments and 200 otherwise.
//!
//!   profile-guard: DEPARTMENT_API_URL=http://127.0.0.1:STUB/departments/{department}
//!                  DEPARTMENT_API_TIMEOUT_MS=300 DEADLINE_MS=2500 RUST_LOG=warn, everything else default, except
//!                  DEPARTMENT_CACHE_TTL=0: with the department cache on (its default) the few departments of the
//!                  mix would be looked up a handful of times and the stub's faults barely reached; the cache off
//!                  is the worst case, every department check a call to the stub (FAULTS_DEPARTMENT_CACHE_TTL)
//!   load:          examples/load_client.rs, FAULTS_CONCURRENCY tasks for FAULTS_DURATION seconds, every body with
//!                  its own requestId and a mix of departments (known, unknown, odd characters, cleared) and other
//!                  requests (non-sensitive, no event.request, wrong actionType, not JSON)
//!
//! Checks: every answer keeps the action contract and is the answer its kind allows, none takes longer than
//! DEADLINE_MS + FAULTS_MARGIN_MS (the load client checks these); the server's RSS (VmRSS, sampled every second)
//! stays flat: it may not grow by more than FAULTS_RSS_GROWTH_KB (4096) over the second half of the run. Exit
//! status 1 when a check fails.
//!
//! Knobs: FAULTS_DURATION (20), FAULTS_CONCURRENCY (32), FAULTS_MARGIN_MS (250), FAULTS_RSS_GROWTH_KB (4096),
//!        FAULTS_DEPARTMENT_CACHE_TTL (0), FAULTS_SKIP_BUILD (0); MEASURE_PROFILE=debug checks the driver
//!        itself quickly against debug builds.
//!
//!     cargo run --example load_faults

mod driver;

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use driver::process::{self, Launch, Process, RssSampler, WorkDir};
use driver::{Failure, knob, knob_text};

const DEADLINE_MS: u64 = 2500;
const DIRECTORY_TIMEOUT_MS: u64 = 300;

struct Settings {
    duration_secs: u64,
    concurrency: u64,
    margin_ms: u64,
    rss_growth_kib: i64,
    cache_ttl: String,
    skip_build: bool,
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            duration_secs: knob("FAULTS_DURATION", 20u64).clamp(1, 600),
            concurrency: knob("FAULTS_CONCURRENCY", 32),
            margin_ms: knob("FAULTS_MARGIN_MS", 250),
            rss_growth_kib: knob("FAULTS_RSS_GROWTH_KB", 4096),
            cache_ttl: knob_text("FAULTS_DEPARTMENT_CACHE_TTL", "0"),
            skip_build: knob("FAULTS_SKIP_BUILD", 0) == 1,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    driver::until_interrupted("load_faults", run()).await
}

async fn run() -> Result<(), Failure> {
    let s = Settings::from_env();
    if !s.skip_build {
        println!(
            "building {} binaries (profile-guard; examples directory_stub, load_client)...",
            process::measured_profile()
        );
        // Two builds: examples pull in dev-dependencies, whose features must not leak into the measured server.
        process::build_measured(&["--bin", "profile-guard"]).await?;
        process::build_measured(&["--example", "directory_stub", "--example", "load_client"])
            .await?;
    }
    let target = process::target_dir()?;
    let binaries = [
        process::measured(&target, "profile-guard"),
        process::measured(&target, "examples/directory_stub"),
        process::measured(&target, "examples/load_client"),
    ];
    if let Some(missing) = binaries.iter().find(|b| !b.is_file()) {
        return Err(Failure::missing(format!("{} missing", missing.display())));
    }
    let [server, stub, client] = &binaries;
    let work = WorkDir::new("profile-guard-faults")?;

    let stub_port = process::free_port()?;
    let mut stub = process::spawn(Launch {
        name: "directory_stub",
        program: stub,
        env: vec![
            ("LISTEN_ADDR", format!("127.0.0.1:{stub_port}")),
            ("STUB_SLOW_MS", "1000".into()),
        ],
        cpu: None,
        log: Some(work.file("stub.log")),
        stdout_in_log: true,
    })?;
    stub.wait_port(stub_port, Duration::from_secs(10)).await?;
    let (mut pg, pg_port) = start_server(&s, server, stub_port, work.file("pg.log"))?;
    pg.wait_port(pg_port, Duration::from_secs(10)).await?;
    let sampler = RssSampler::start(pg.pid(), Duration::from_secs(1));

    println!(
        "profile-guard on 127.0.0.1:{pg_port}, directory stub on 127.0.0.1:{stub_port} (timeout \
         {DIRECTORY_TIMEOUT_MS} ms, deadline {DEADLINE_MS} ms, DEPARTMENT_CACHE_TTL={})",
        s.cache_ttl
    );
    let load = run_load_client(&s, client, pg_port).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await; // one more RSS sample after the load

    let hwm = process::status_kib(pg.pid(), "VmHWM").unwrap_or(0);
    let samples: Vec<u64> = sampler.finish().into_iter().map(|(_, kib)| kib).collect();
    pg.stop().await;
    stub.stop().await;
    report_logs(&work.file("stub.log"), &work.file("pg.log"));

    let rss_flat = report_rss(&samples, hwm, s.rss_growth_kib);
    let mut passed = load.passed && rss_flat;
    if !load.gave_result {
        println!("FAIL: the load client gave no result");
        passed = false;
    }
    if passed {
        println!(
            "PASS: every answer contract-valid and expected, none slower than {} ms, RSS flat",
            DEADLINE_MS + s.margin_ms
        );
        Ok(())
    } else {
        println!("FAIL");
        Err(Failure::broken("a check failed"))
    }
}

fn start_server(
    s: &Settings,
    program: &Path,
    stub_port: u16,
    log: PathBuf,
) -> Result<(Process, u16), Failure> {
    let port = process::free_port()?;
    let server = process::spawn(Launch {
        name: "profile-guard",
        program,
        env: vec![
            ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
            ("RUST_LOG", "warn".into()),
            (
                "DEPARTMENT_API_URL",
                format!("http://127.0.0.1:{stub_port}/departments/{{department}}"),
            ),
            (
                "DEPARTMENT_API_TIMEOUT_MS",
                DIRECTORY_TIMEOUT_MS.to_string(),
            ),
            ("DEADLINE_MS", DEADLINE_MS.to_string()),
            ("DEPARTMENT_CACHE_TTL", s.cache_ttl.clone()),
        ],
        cpu: None,
        log: Some(log),
        stdout_in_log: true,
    })?;
    Ok((server, port))
}

struct Load {
    /// It exited 0: every answer valid, expected and in time.
    passed: bool,
    /// It printed its LOADRESULT line.
    gave_result: bool,
}

/// The load client, its output shown as it comes; bounded at its duration + 30 s.
async fn run_load_client(s: &Settings, client: &Path, port: u16) -> Result<Load, Failure> {
    let mut command = Command::new(client);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("URL", format!("http://127.0.0.1:{port}/pre-update-profile"))
        .env("DURATION_SECS", s.duration_secs.to_string())
        .env("CONCURRENCY", s.concurrency.to_string())
        .env("DEADLINE_MS", DEADLINE_MS.to_string())
        .env("MARGIN_MS", s.margin_ms.to_string())
        .stdout(Stdio::piped());
    let mut load = Process::start("load_client", command, None)?;
    let stdout = load.take_stdout();
    let echo = tokio::task::spawn_blocking(move || {
        let mut gave_result = false;
        for line in stdout
            .into_iter()
            .flat_map(|o| std::io::BufReader::new(o).lines())
        {
            let Ok(line) = line else { break };
            gave_result |= line.starts_with("LOADRESULT");
            println!("{line}");
        }
        gave_result
    });
    let status = load
        .wait_exit(Duration::from_secs(s.duration_secs + 30))
        .await;
    drop(load); // a client that overran is killed here, which ends its output
    Ok(Load {
        passed: status.is_some_and(|st| st.success()),
        gave_result: echo.await.unwrap_or(false),
    })
}

/// The stub's counts, and the server's warnings grouped by message.
fn report_logs(stub_log: &Path, pg_log: &Path) {
    let stub = std::fs::read_to_string(stub_log).unwrap_or_default();
    for line in stub
        .lines()
        .filter(|l| l.starts_with("directory_stub answers"))
    {
        println!("{line}");
    }
    let pg = std::fs::read_to_string(pg_log).unwrap_or_default();
    if pg.trim().is_empty() {
        return;
    }
    let lines = pg.lines().filter(|l| !l.is_empty()).count();
    println!("profile-guard warnings/errors during the run: {lines} lines, by message:");
    let mut by_message: BTreeMap<String, u64> = BTreeMap::new();
    for line in pg.lines() {
        let value: Option<serde_json::Value> = serde_json::from_str(line).ok();
        if let Some(message) = value.as_ref().and_then(|v| v["message"].as_str()) {
            *by_message.entry(message.to_owned()).or_default() += 1;
        }
    }
    let mut counted: Vec<(u64, String)> = by_message.into_iter().map(|(m, n)| (n, m)).collect();
    counted.sort_by(|a, b| b.cmp(a));
    for (count, message) in counted.into_iter().take(5) {
        println!("{count:>7} {message}");
    }
}

/// Prints the samples and the figures; whether RSS stayed flat over the second half.
fn report_rss(samples: &[u64], hwm_kib: u64, limit_kib: i64) -> bool {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!();
    println!("RSS of profile-guard (VmRSS, KiB), one sample per second:");
    let listed: Vec<String> = samples.iter().map(u64::to_string).collect();
    println!("  {}", listed.join(" "));
    let n = samples.len();
    let at = |i: usize| samples.get(i).copied().unwrap_or(0);
    // The middle sample (the earlier one of two): where the second half starts.
    let (start, mid, end) = (
        at(0),
        at(n.div_ceil(2).saturating_sub(1)),
        at(n.saturating_sub(1)),
    );
    let peak = samples.iter().copied().max().unwrap_or(0);
    let growth = end as i64 - mid as i64;
    println!(
        "RSS: start {:.1} MiB, peak {:.1} MiB (VmHWM {:.1} MiB), end {:.1} MiB; second half {growth:+} KiB \
         (limit {limit_kib} KiB)",
        mib(start),
        mib(peak),
        mib(hwm_kib),
        mib(end)
    );
    let flat = n >= 4 && growth <= limit_kib;
    if !flat {
        println!("FAIL: RSS did not stay flat");
    }
    flat
}
