//! Templates are proven when the service starts: a template that would fail on a real message stops start-up
//! with its name, instead of turning every sensitive change into `FAILED email_error` later.

use std::collections::HashMap;
use std::path::PathBuf;

use profile_guard::{Config, build_with};

use crate::support::{SesScope, TestApp, success, tutorial};

/// A `TEMPLATE_DIR` of its own, removed when dropped.
struct TemplateDir(PathBuf);

impl TemplateDir {
    fn with(files: &[(&str, &str)]) -> TemplateDir {
        let dir = std::env::temp_dir().join(format!("pg-templates-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        TemplateDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TemplateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Start-up's error text with this template directory, or `None` when the service starts.
async fn start_up_error(dir: &TemplateDir) -> Option<String> {
    let vars = HashMap::from([("TEMPLATE_DIR".to_owned(), dir.path().to_owned())]);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials();
    build_with(&config, loader)
        .await
        .err()
        .map(|e| e.to_string())
}

async fn assert_stops_start_up(file: &str, text: &str) {
    let dir = TemplateDir::with(&[(file, text)]);
    let error = start_up_error(&dir)
        .await
        .unwrap_or_else(|| panic!("{file} with {text:?} let the service start"));
    assert!(
        error.contains("TEMPLATE_DIR") && error.contains(file),
        "{error}"
    );
}

#[tokio::test]
async fn an_unknown_variable_stops_start_up() {
    assert_stops_start_up("alert.txt", "User {{ user_id }} {{ no_such_variable }}\n").await;
    assert_stops_start_up(
        "notice.subject.txt",
        "{% if initiator == \"ADMIN\" %}{{ no_such_variable }}{% endif %}Your profile",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_filter_stops_start_up() {
    assert_stops_start_up("alert.html", "<p>{{ user_id | no_such_filter }}</p>").await;
}

#[tokio::test]
async fn a_syntax_error_stops_start_up() {
    assert_stops_start_up("notice.txt", "Hello {% if given_name %}{{ given_name }").await;
}

#[tokio::test]
async fn the_built_in_templates_and_a_valid_override_start_and_are_used() {
    assert!(start_up_error(&TemplateDir::with(&[])).await.is_none());
    let dir = TemplateDir::with(&[(
        "alert.subject.txt",
        "Check {{ user_id }}{% if shared_user_id %} ({{ shared_user_id }}){% endif %}: {{ attributes | map(attribute=\"name\") | join(\", \") }}",
    )]);
    assert_eq!(start_up_error(&dir).await, None);

    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("TEMPLATE_DIR", dir.path()));
    let app = TestApp::new(&vars).await;
    assert_eq!(app.post(tutorial()).await.body, success());
    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].subject,
        "Check 57b22cbf-4688-476c-a607-c0c9d089d25d: Department, Mobile number, Email address"
    );
}
