//! The questions an earlier answer opens: the credential for the caller authentication chosen, the directory's
//! token or the fixed list, the Okta API token and the catch-up for an org, the report link's key and action.

use super::questions::{AUTH_CREDENTIAL, Ask, Shape, ask};

/// The questions that follow `answer` to the question about `param`, in the order they are asked.
pub fn follow_up(param: &str, answer: &str) -> Vec<Ask> {
    match (param, answer) {
        ("AuthMode", "jwt") => jwt(),
        ("AuthMode", _) => vec![AUTH_CREDENTIAL],
        ("DepartmentApiUrl", "") => vec![ask(
            "Departments",
            "DEPARTMENTS",
            "The departments, comma-separated",
            Some("Engineering,HR,Sales,Finance"),
            Shape::Text,
        )],
        ("DepartmentApiUrl", _) => vec![ask(
            "DepartmentApiTokenSecretArn",
            "DEPARTMENT_API_TOKEN_SECRET",
            "ARN of the secret holding the directory's bearer token (empty: none)",
            Some(""),
            Shape::SecretArn,
        )],
        ("OktaOrgUrl", "") | ("ReportUrlBase", "") => Vec::new(),
        ("OktaOrgUrl", _) => vec![
            ask(
                "OktaApiTokenSecretArn",
                "OKTA_API_TOKEN_SECRET",
                "ARN of the secret holding an Okta API token that can read users (and the System Log, for the catch-up)",
                None,
                Shape::SecretArn,
            ),
            ask(
                "OktaCatchupIntervalSecs",
                "OKTA_CATCHUP_INTERVAL_SECS",
                "How often to catch up from Okta's System Log on changes the hook missed, in seconds: 0 (off), 60, 300, 600, 900, 1800 or 3600",
                Some("300"),
                Shape::OneOf(&["0", "60", "300", "600", "900", "1800", "3600"]),
            ),
        ],
        ("ReportUrlBase", _) => vec![
            ask(
                "ReportLinkSecretArn",
                "REPORT_LINK_SECRET_SECRET",
                "ARN of the secret (at least 32 bytes) that signs the report links",
                None,
                Shape::SecretArn,
            ),
            ask(
                "ReportAction",
                "REPORT_ACTION",
                "What a report does: alert (the security team) or lock (also locks the account)",
                Some("alert"),
                Shape::OneOf(&["alert", "lock"]),
            ),
        ],
        _ => Vec::new(),
    }
}

/// `AUTH_MODE=jwt`: the identity server's keys, issuer and audience, and optionally a scope.
fn jwt() -> Vec<Ask> {
    vec![
        ask(
            "AuthJwksUrl",
            "AUTH_JWKS_URL",
            "The identity server's JWKS URL (e.g. https://is.example.com/oauth2/jwks)",
            None,
            Shape::Url,
        ),
        ask(
            "AuthIssuer",
            "AUTH_ISSUER",
            "The tokens' issuer (iss), exactly",
            None,
            Shape::Text,
        ),
        ask(
            "AuthAudience",
            "AUTH_AUDIENCE",
            "The tokens' audience (aud): the client ID the Console fetches tokens with",
            None,
            Shape::Text,
        ),
        ask(
            "AuthRequiredScope",
            "AUTH_REQUIRED_SCOPE",
            "A scope the token must hold (empty: none)",
            Some(""),
            Shape::Text,
        ),
    ]
}
