//! Message templates: built in (the files under `templates/` in the repository), each replaceable without
//! recompiling by a file of the same name in `TEMPLATE_DIR`. Templates are compiled and test-rendered once at
//! start-up, with strict undefined values and sample contexts built by the code that builds real ones, so a
//! broken one stops the service with its name instead of failing every alert later. HTML templates escape every
//! value; the Slack text (`*.slack.txt`) escapes every value the way Slack needs (`&`, `<`, `>`), so a value can
//! never become a mention or a link; subjects are forced onto one line after rendering.

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, escape_formatter};
use serde::Serialize;

use super::slack_text::escape_slack;

/// Every template: file name and built-in text.
pub const BUILT_IN: [(&str, &str); 20] = [
    (
        "alert.subject.txt",
        include_str!("../../../templates/alert.subject.txt"),
    ),
    ("alert.txt", include_str!("../../../templates/alert.txt")),
    ("alert.html", include_str!("../../../templates/alert.html")),
    (
        "notice.subject.txt",
        include_str!("../../../templates/notice.subject.txt"),
    ),
    ("notice.txt", include_str!("../../../templates/notice.txt")),
    (
        "notice.html",
        include_str!("../../../templates/notice.html"),
    ),
    (
        "notice.slack.txt",
        include_str!("../../../templates/notice.slack.txt"),
    ),
    (
        "okta-notice.subject.txt",
        include_str!("../../../templates/okta-notice.subject.txt"),
    ),
    (
        "okta-notice.txt",
        include_str!("../../../templates/okta-notice.txt"),
    ),
    (
        "okta-notice.html",
        include_str!("../../../templates/okta-notice.html"),
    ),
    (
        "okta-notice.slack.txt",
        include_str!("../../../templates/okta-notice.slack.txt"),
    ),
    (
        "okta-alert.subject.txt",
        include_str!("../../../templates/okta-alert.subject.txt"),
    ),
    (
        "okta-alert.txt",
        include_str!("../../../templates/okta-alert.txt"),
    ),
    (
        "okta-alert.html",
        include_str!("../../../templates/okta-alert.html"),
    ),
    (
        "digest.subject.txt",
        include_str!("../../../templates/digest.subject.txt"),
    ),
    ("digest.txt", include_str!("../../../templates/digest.txt")),
    (
        "digest.html",
        include_str!("../../../templates/digest.html"),
    ),
    (
        "report-alert.subject.txt",
        include_str!("../../../templates/report-alert.subject.txt"),
    ),
    (
        "report-alert.txt",
        include_str!("../../../templates/report-alert.txt"),
    ),
    (
        "report-alert.html",
        include_str!("../../../templates/report-alert.html"),
    ),
];

/// The auto-escape mode of Slack texts.
const SLACK_ESCAPE: &str = "slack";
/// At most this many characters of one value in a Slack text (the contexts already cap their values).
const SLACK_VALUE_CHARS: usize = 1000;

#[derive(Debug, thiserror::Error)]
#[error("TEMPLATE_DIR: {file}: {problem}")]
pub struct TemplateError {
    pub file: String,
    pub problem: String,
}

/// A template failed while rendering one message.
#[derive(Debug, thiserror::Error)]
#[error("template {name} failed to render: {problem}")]
pub struct RenderError {
    pub name: &'static str,
    pub problem: String,
}

/// Contexts every template is rendered with at start-up: each shape a real alert or notice context can take.
pub struct Samples {
    pub alert: Vec<minijinja::Value>,
    pub notice: Vec<minijinja::Value>,
    pub okta_alert: Vec<minijinja::Value>,
    pub okta_notice: Vec<minijinja::Value>,
    pub digest: Vec<minijinja::Value>,
    pub report_alert: Vec<minijinja::Value>,
}

impl Samples {
    /// The contexts the template `name` is rendered with.
    pub fn for_template(&self, name: &str) -> &[minijinja::Value] {
        if name.starts_with("okta-alert.") {
            &self.okta_alert
        } else if name.starts_with("okta-notice.") {
            &self.okta_notice
        } else if name.starts_with("digest.") {
            &self.digest
        } else if name.starts_with("report-alert.") {
            &self.report_alert
        } else if name.starts_with("alert.") {
            &self.alert
        } else {
            &self.notice
        }
    }
}

pub struct Templates {
    env: Environment<'static>,
    /// Which templates came from `TEMPLATE_DIR`, for the start-up log.
    pub overridden: Vec<String>,
}

impl Templates {
    /// The built-in templates, each replaced by `dir/<name>` where that file exists, each proven on `samples`.
    pub fn load(dir: Option<&Path>, samples: &Samples) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        // A misspelt variable is an error, not an empty string: the start-up proof below then catches it.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else if name.ends_with(".slack.txt") {
                AutoEscape::Custom(SLACK_ESCAPE.into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| match state.auto_escape() {
            AutoEscape::Custom(mode) if mode == SLACK_ESCAPE && !value.is_safe() => {
                let text = escape_slack(&value.to_string(), SLACK_VALUE_CHARS);
                out.write_str(&text).map_err(minijinja::Error::from)
            }
            AutoEscape::Custom(_) => out
                .write_str(&value.to_string())
                .map_err(minijinja::Error::from),
            _ => escape_formatter(out, state, value),
        });
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        let mut overridden = Vec::new();
        for (name, built_in) in BUILT_IN {
            let source = match dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => {
                    overridden.push(name.to_owned());
                    std::fs::read_to_string(&path).map_err(|e| TemplateError {
                        file: name.to_owned(),
                        problem: format!("cannot be read ({e})"),
                    })?
                }
                _ => built_in.to_owned(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| TemplateError {
                    file: name.to_owned(),
                    problem: e.to_string(),
                })?;
        }
        if let Some(dir) = dir
            && !dir.is_dir()
        {
            return Err(TemplateError {
                file: dir.display().to_string(),
                problem: "is not a directory".into(),
            });
        }
        prove(&env, samples)?;
        Ok(Templates { env, overridden })
    }

    pub fn render(
        &self,
        name: &'static str,
        context: &impl Serialize,
    ) -> Result<String, RenderError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(context)))
            .map_err(|e| RenderError {
                name,
                problem: e.to_string(),
            })
    }
}

/// Renders every template with sample contexts (each optional value present and missing, each initiator), so that
/// an unknown variable or filter fails here, at start-up, and never on a real change.
fn prove(env: &Environment<'static>, samples: &Samples) -> Result<(), TemplateError> {
    for (name, _) in BUILT_IN {
        let samples = samples.for_template(name);
        let failed = |e: minijinja::Error| TemplateError {
            file: name.to_owned(),
            problem: format!("does not render a sample message: {e}"),
        };
        let template = env.get_template(name).map_err(failed)?;
        for sample in samples {
            template.render(sample).map_err(failed)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples_for(name: &str) -> Vec<minijinja::Value> {
        crate::notify::messages::template_samples()
            .for_template(name)
            .to_vec()
    }

    #[test]
    fn built_in_templates_never_print_a_missing_value() {
        let templates = crate::notify::load_templates(None).unwrap();
        assert!(templates.overridden.is_empty());
        for (name, _) in BUILT_IN {
            for sample in samples_for(name) {
                let out = templates
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(&sample))
                    .unwrap();
                assert!(
                    !out.split(|c: char| !c.is_alphanumeric())
                        .any(|w| w.eq_ignore_ascii_case("none")),
                    "{name} prints a missing value:\n{out}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_variable_is_an_error() {
        let dir = std::env::temp_dir().join(format!("pg-unit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("notice.txt"), "{{ given_nmae }}").unwrap();
        let error = crate::notify::load_templates(Some(&dir))
            .err()
            .map(|e| e.to_string());
        std::fs::remove_dir_all(&dir).unwrap();
        let error = error.expect("an unknown variable stops loading");
        assert!(
            error.starts_with("TEMPLATE_DIR: notice.txt: does not render"),
            "{error}"
        );
    }
}
