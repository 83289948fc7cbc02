//! Lambda mode: `cargo lambda watch --only-lambda-apis` provides the Lambda runtime API on loopback; the release
//! binary is started under it (AWS_LAMBDA_RUNTIME_API set, the settings Lambda requires, the AWS endpoints pointed
//! at a closed loopback port) while an invoke already waits, and the time from exec to the invoke's answer is
//! taken: runtime init + first invoke, without the sandbox and download time of real Lambda. The invoke is this
//! driver's own HTTP request, so no client process exit is in the figure.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::driver::Failure;
use crate::driver::process::{self, Launch, Process, WorkDir};
use crate::driver::stats::ms;

pub async fn measure(server: &Path, runs: u32) -> Result<(), Failure> {
    let path = process::path_with_venv();
    let mut version = Command::new("cargo");
    version.args(["lambda", "--version"]).env("PATH", &path);
    if !process::succeeds("cargo lambda --version", version).await {
        println!();
        println!("Lambda mode: skipped (cargo-lambda not installed: make venv)");
        return Ok(());
    }
    println!();
    println!(
        "Lambda mode: exec -> first invoke answered, under 'cargo lambda watch --only-lambda-apis', {runs} runs"
    );
    let work = WorkDir::new("profile-guard-startup")?;
    let port = process::free_port()?;
    let mut command = Command::new("cargo");
    command
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string()])
        .env("PATH", &path);
    let log = work.file("watch.log");
    let mut watch = Process::start_logged("cargo lambda watch", command, log)?;
    watch.wait_port(port, Duration::from_secs(10)).await?;
    let emulator = Emulator {
        port,
        event: std::fs::read(process::repo_root().join("events/non-sensitive-change.json"))?,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::broken(e.to_string()))?,
    };
    emulator.start(server, &work).await?; // page cache warm
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(emulator.start(server, &work).await?);
    }
    println!("  {}", crate::summary(&times));
    watch.stop().await;
    Ok(())
}

/// The runtime API of `cargo lambda watch` on 127.0.0.1:`port`, serving one function named `_`.
struct Emulator {
    port: u16,
    event: Vec<u8>,
    client: reqwest::Client,
}

impl Emulator {
    /// Milliseconds from exec of the function to the answer of the invoke that waited for it.
    async fn start(&self, server: &Path, work: &WorkDir) -> Result<f64, Failure> {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/_/invocations",
            self.port
        );
        // The invoke waits in the emulator until a function instance asks for work.
        let invoke = tokio::spawn(
            self.client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(self.event.clone())
                .send(),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let function = process::spawn(Launch {
            name: "profile-guard (Lambda)",
            program: server,
            env: self.function_env(),
            cpu: None,
            log: Some(work.file("function.log")),
            stdout_in_log: true,
        })?;
        let answered = invoke.await.ok().and_then(Result::ok);
        let elapsed = ms(started.elapsed());
        let Some(response) = answered else {
            return Err(Failure::broken(format!(
                "the invoke did not complete{}",
                function.log_tail(20)
            )));
        };
        let text = response.text().await.unwrap_or_default();
        let status = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["statusCode"].as_u64());
        if status != Some(200) {
            return Err(Failure::broken(format!("unexpected invoke answer: {text}")));
        }
        function.stop().await;
        Ok(elapsed)
    }

    /// What Lambda sets, the settings the function requires there, and every AWS endpoint on a closed port.
    fn function_env(&self) -> Vec<(&'static str, String)> {
        let fixed = [
            ("AWS_LAMBDA_FUNCTION_NAME", "_"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("ALERT_SENDER", "profile-guard@example.com"),
            ("SECURITY_TEAM_EMAILS", "security@example.com"),
            ("AUTH_MODE", "none"),
            ("RUST_LOG", "warn"),
        ];
        let mut env: Vec<(&'static str, String)> =
            fixed.iter().map(|&(k, v)| (k, v.to_owned())).collect();
        env.push((
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{}/.rt", self.port),
        ));
        env
    }
}
