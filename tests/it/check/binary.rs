//! The binary as an admin runs it: `profile-guard check [--json]`, its exit codes and output.

use std::process::{Command, Output};

fn check(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_profile-guard"));
    command.arg("check").args(args).env_clear();
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

#[test]
fn nothing_failed_exits_0_with_a_line_per_dependency() {
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("directory")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn") && l.contains("e-mail")),
        "{text}"
    );
}

#[test]
fn a_failed_dependency_exits_1_and_json_says_which() {
    let url = format!("http://{}/d/{{department}}", crate::support::closed_port());
    let out = check(&["--json"], &[("DEPARTMENT_API_URL", url.as_str())]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["ok"], false);
    let directory = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dependency"] == "directory")
        .unwrap();
    assert_eq!(directory["status"], "fail");
}

#[test]
fn an_invalid_configuration_exits_2_with_start_ups_error() {
    let out = check(&[], &[("AUTH_MODE", "bogus")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("configuration error") && err.contains("AUTH_MODE"),
        "{err}"
    );
    let out = check(&["--json"], &[("AUTH_MODE", "bogus")]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["configuration_error"]["variable"], "AUTH_MODE");
}

#[test]
fn anything_else_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_profile-guard"))
        .arg("chek")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
