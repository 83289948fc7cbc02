//! `profile-guard configure` (`make configure`): asks which sources and channels this deployment serves, then only
//! the settings that scenario needs, and writes them as `samconfig.toml` (for `make deploy`) and `.env` (for
//! `make run` and `make check`). Answers come one per line, so a file of answers drives it as well as a person.

mod answers;
mod follow_up;
mod questions;

use std::io::{BufRead, Write};

pub use answers::{SetupError, ask_one, choices};
use questions::{Ask, Scenario};

/// The settings of one deployment, as answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    pub stack: String,
    pub region: String,
    /// Template parameters, in the order they were settled.
    pub params: Vec<(&'static str, String)>,
    /// Local variables for `.env`.
    pub env: Vec<(&'static str, String)>,
}

/// Asks every question on `prompts`, reading the answers from `input`.
pub fn configure(input: &mut impl BufRead, prompts: &mut impl Write) -> Result<Setup, SetupError> {
    let scenario = scenario(input, prompts)?;
    let mut setup = Setup {
        stack: ask_one(input, prompts, &questions::STACK)?,
        region: ask_one(input, prompts, &questions::REGION)?,
        ..Setup::default()
    };
    setup.env.push(("AWS_REGION", setup.region.clone()));
    let mut pending: Vec<Ask> = questions::settings_for(&scenario);
    pending.reverse();
    while let Some(ask) = pending.pop() {
        let answer = ask_one(input, prompts, &ask)?;
        // A stack: the follow-ups go on top, the first of them asked next.
        pending.extend(follow_up::follow_up(ask.param, &answer).into_iter().rev());
        setup.record(ask.param, ask.env, answer);
    }
    let sender = setup
        .params
        .iter()
        .find(|(p, _)| *p == "AlertSender")
        .map(|(_, v)| v.clone());
    for (param, env, value) in questions::derived(&scenario, sender.as_deref()) {
        setup.record(param, env, value);
    }
    Ok(setup)
}

fn scenario(input: &mut impl BufRead, prompts: &mut impl Write) -> Result<Scenario, SetupError> {
    let sources = choices(
        input,
        prompts,
        questions::SOURCES,
        "wso2-action",
        &["wso2-action", "wso2-webhooks", "okta-hook"],
    )?;
    let alerts = choices(
        input,
        prompts,
        questions::ALERTS,
        "email",
        &["email", "slack", "teams"],
    )?;
    let notices = choices(
        input,
        prompts,
        questions::NOTICES,
        "email",
        &["email", "slack", "both", "off"],
    )?;
    let has = |list: &[String], name: &str| list.iter().any(|c| c == name);
    let mut scenario = Scenario {
        action: has(&sources, "wso2-action"),
        webhooks: has(&sources, "wso2-webhooks"),
        okta: has(&sources, "okta-hook"),
        alert_email: has(&alerts, "email"),
        alert_slack: has(&alerts, "slack"),
        alert_teams: has(&alerts, "teams"),
        notice_email: !has(&notices, "off") && (has(&notices, "email") || has(&notices, "both")),
        notice_slack: !has(&notices, "off") && (has(&notices, "slack") || has(&notices, "both")),
        after_commit: false,
    };
    if scenario.webhooks && scenario.notice() {
        let when = choices(
            input,
            prompts,
            questions::WHEN,
            "update",
            &["update", "commit"],
        )?;
        scenario.after_commit = has(&when, "commit");
    }
    Ok(scenario)
}

impl Setup {
    fn record(&mut self, param: &'static str, env: &'static str, value: String) {
        if !param.is_empty() {
            self.params.push((param, value.clone()));
        }
        if !env.is_empty() && !value.is_empty() {
            self.env.push((env, value));
        }
    }

    /// `samconfig.toml` as `sam deploy` reads it.
    pub fn samconfig(&self) -> String {
        let overrides: Vec<String> = self
            .params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(p, v)| format!("{p}=\\\"{}\\\"", toml_escape(v)))
            .collect();
        format!(
            "# Written by `make configure`; `make deploy` reads it. Run `make configure` again to change it.\n\
             version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"{stack}\"\nregion = \"{region}\"\n\
             capabilities = \"CAPABILITY_IAM\"\nresolve_s3 = true\nconfirm_changeset = true\n\
             parameter_overrides = \"{overrides}\"\n\n[default.global.parameters]\nstack_name = \"{stack}\"\n",
            stack = toml_escape(&self.stack),
            region = toml_escape(&self.region),
            overrides = overrides.join(" "),
        )
    }

    /// `.env` for `make run` and `make check`: the same settings as the deployment's variables.
    pub fn dotenv(&self) -> String {
        let mut out = String::from(
            "# Written by `make configure`: the settings `make run` and `make check` use. Secrets stay in Secrets\n\
             # Manager (the *_SECRET variables name them); reading them needs AWS credentials.\n",
        );
        for (name, value) in &self.env {
            out.push_str(&format!("{name}='{}'\n", value.replace('\'', "'\\''")));
        }
        out
    }
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
