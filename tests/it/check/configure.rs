//! `make configure` driven by a file of answers, as a person at the prompt would answer: the files it writes name
//! only parameters the template has, and `make run` / `make check` read the `.env` it writes.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::repo_file;

const ANSWERS: &str = "wso2-action,okta-hook
email,slack
both

eu-west-1
x86_64
bearer
arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/auth-AbC
not-an-address
alerts@example.com
soc@example.com
arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/slack-AbC
arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/bot-AbC
help@example.com


Engineering,Finance
arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/okta-AbC


";

/// A fresh directory of its own under the system's temporary directory.
fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pg-configure-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a directory");
    dir
}

fn configure(dir: &std::path::Path, answers: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_profile-guard"))
        .arg("configure")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(answers.as_bytes())
        .expect("answers written");
    drop(stdin);
    child.wait_with_output().expect("it ends")
}

/// The parameter names `template.yaml` declares.
fn template_parameters() -> Vec<String> {
    let template = repo_file("template.yaml");
    let params = template
        .split("\nParameters:\n")
        .nth(1)
        .expect("a Parameters section");
    let params = params.split("\nConditions:").next().unwrap_or(params);
    params
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_owned())
        .collect()
}

#[test]
fn a_scripted_set_up_writes_what_the_template_and_make_run_read() {
    let dir = scratch();
    let out = configure(&dir, ANSWERS);
    let prompts = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{prompts}");
    assert!(
        prompts.contains("not an e-mail address"),
        "a wrong answer is said: {prompts}"
    );
    let samconfig = std::fs::read_to_string(dir.join("samconfig.toml")).expect("samconfig.toml");
    let known = template_parameters();
    let overrides = samconfig
        .lines()
        .find(|l| l.starts_with("parameter_overrides"))
        .expect("overrides");
    for pair in overrides
        .trim_start_matches("parameter_overrides = \"")
        .split("\\\" ")
    {
        let name = pair.split('=').next().unwrap_or_default();
        assert!(
            known.iter().any(|k| k == name),
            "{name} is not a template parameter"
        );
    }
    for expected in [
        "Architecture=\\\"x86_64\\\"",
        "AlertChannels=\\\"email,slack\\\"",
        "UserNoticeChannels=\\\"email,slack\\\"",
        "SenderIdentity=\\\"example.com\\\"",
        "Departments=\\\"Engineering,Finance\\\"",
    ] {
        assert!(overrides.contains(expected), "{expected} in {overrides}");
    }
    assert!(
        !overrides.contains("Wso2WebhookSecretArn"),
        "webhooks were not chosen: {overrides}"
    );
    assert!(
        !overrides.contains("OktaApiTokenSecretArn"),
        "no org URL, no API token: {overrides}"
    );
    assert!(
        samconfig.contains("stack_name = \"profile-guard\"")
            && samconfig.contains("region = \"eu-west-1\"")
    );
    // The .env is what `make run` sources: a shell reads it back value for value.
    let echoed = Command::new("bash")
        .arg("-c")
        .arg("set -a; . ./.env; printf '%s|%s|%s' \"$ALERT_CHANNELS\" \"$DEPARTMENTS\" \"$AUTH_CREDENTIAL_SECRET\"")
        .current_dir(&dir)
        .output()
        .expect("bash runs");
    assert_eq!(
        String::from_utf8_lossy(&echoed.stdout),
        "email,slack|Engineering,Finance|arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/auth-AbC"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn input_that_ends_early_writes_nothing() {
    let dir = scratch();
    let out = configure(&dir, "okta-hook\nteams\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing written"));
    assert!(!dir.join("samconfig.toml").exists() && !dir.join(".env").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
