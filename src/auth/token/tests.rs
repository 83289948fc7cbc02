use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A compact token with this header; payload and signature are placeholders (nothing here checks them).
fn with_header(header: &Value) -> String {
    format!("{}.{}.c2ln", b64(header), b64(&json!({"sub": "x"})))
}

#[test]
fn the_header_gives_the_algorithm_and_the_key_id() {
    let token = with_header(&json!({"alg": "RS256", "kid": "k-1", "typ": "at+jwt", "x5t": "abc"}));
    let header = TokenHeader::parse(&token).unwrap();
    assert_eq!(header.alg, SigningAlg::Rs256);
    assert_eq!(header.kid.as_deref(), Some("k-1"));
    let escaped = with_header(&json!({"alg": "ES256", "kid": "k\"2"}));
    assert_eq!(
        TokenHeader::parse(&escaped).unwrap().kid.as_deref(),
        Some("k\"2")
    );
    let no_kid = with_header(&json!({"alg": "PS256"}));
    assert_eq!(
        TokenHeader::parse(&no_kid).unwrap(),
        TokenHeader {
            alg: SigningAlg::Ps256,
            kid: None
        }
    );
}

#[test]
fn only_asymmetric_algorithms_are_accepted() {
    for alg in [
        "none", "None", "HS256", "HS512", "RS384", "ES384", "EdDSA", "rs256", "",
    ] {
        let token = with_header(&json!({"alg": alg, "kid": "k"}));
        assert_eq!(
            TokenHeader::parse(&token),
            Err(TokenProblem::AlgorithmRefused),
            "{alg}"
        );
    }
    // `alg: none` comes with an empty signature.
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&json!({})));
    assert_eq!(
        TokenHeader::parse(&none),
        Err(TokenProblem::AlgorithmRefused)
    );
    let crit = with_header(&json!({"alg": "RS256", "crit": ["b64"], "b64": false}));
    assert_eq!(TokenHeader::parse(&crit), Err(TokenProblem::CriticalHeader));
}

#[test]
fn anything_but_a_compact_jws_is_not_a_jwt() {
    let good_header = b64(&json!({"alg": "RS256"}));
    let cases = [
        String::new(),
        "tok-9f8e7d6c".into(),
        "a.b".into(),
        "a.b.c".into(),
        format!("{good_header}.e30.c2ln.extra"),
        format!("{good_header}..c2ln"),
        format!("{good_header}=.e30.c2ln"),
        format!("{}.e30.c2ln", b64(&json!("RS256"))),
        format!("{}.e30.c2ln", b64(&json!({"kid": "k"}))),
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("not json")),
        format!(
            "{}.e30.c2ln",
            b64(&json!({"alg": "RS256", "pad": "x".repeat(1100)}))
        ),
        format!("{good_header}.{}.c2ln", "A".repeat(MAX_TOKEN_BYTES)),
    ];
    for token in cases {
        assert_eq!(
            TokenHeader::parse(&token),
            Err(TokenProblem::NotAJwt),
            "{token:.60}"
        );
    }
}

const NOW: i64 = 1_750_000_000;

fn rules(scope: Option<&str>) -> ClaimRules {
    ClaimRules {
        issuer: "https://is.example.com/oauth2/token".into(),
        audience: "client-7".into(),
        scope: scope.map(str::to_owned),
    }
}

fn claims(extra: Value) -> TokenClaims {
    let mut base = json!({
        "iss": "https://is.example.com/oauth2/token",
        "aud": "client-7",
        "exp": NOW + 300,
        "scope": "openid profile-guard:call",
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).unwrap()
}

#[test]
fn the_claims_decide_issuer_audience_time_and_scope() {
    let required = rules(Some("profile-guard:call"));
    let cases: &[(Value, Result<(), TokenProblem>)] = &[
        (json!({}), Ok(())),
        (json!({"aud": ["other", "client-7"]}), Ok(())),
        (json!({"exp": NOW - 59}), Ok(())),
        (json!({"exp": NOW - 60}), Err(TokenProblem::Expired)),
        (json!({"exp": (NOW - 30) as f64 + 0.5}), Ok(())),
        (json!({"nbf": NOW + 60}), Ok(())),
        (json!({"nbf": NOW + 61}), Err(TokenProblem::NotYetValid)),
        (json!({"exp": null}), Err(TokenProblem::ExpiryMissing)),
        (
            json!({"iss": "https://is.example.com/oauth2/token/"}),
            Err(TokenProblem::IssuerWrong),
        ),
        (json!({"iss": null}), Err(TokenProblem::IssuerWrong)),
        (json!({"aud": "client-8"}), Err(TokenProblem::AudienceWrong)),
        (
            json!({"aud": ["client-77"]}),
            Err(TokenProblem::AudienceWrong),
        ),
        (json!({"aud": null}), Err(TokenProblem::AudienceWrong)),
        (json!({"scope": "openid"}), Err(TokenProblem::ScopeMissing)),
        (
            json!({"scope": "Profile-guard:call"}),
            Err(TokenProblem::ScopeMissing),
        ),
        (
            json!({"scope": null, "scp": ["openid", "profile-guard:call"]}),
            Ok(()),
        ),
        (
            json!({"scope": null, "scp": "a profile-guard:call"}),
            Ok(()),
        ),
        (
            json!({"scope": null, "scp": ["a profile-guard:call"]}),
            Err(TokenProblem::ScopeMissing),
        ),
        (json!({"scope": null}), Err(TokenProblem::ScopeMissing)),
    ];
    for (extra, expected) in cases {
        assert_eq!(
            required.check(&claims(extra.clone()), NOW),
            *expected,
            "{extra}"
        );
    }
    assert_eq!(
        rules(None).check(&claims(json!({"scope": null})), NOW),
        Ok(())
    );
}

#[test]
fn claims_of_the_wrong_type_are_unreadable() {
    for payload in [
        json!({"exp": "1750000300"}),
        json!({"aud": 7}),
        json!({"aud": ["a", 7]}),
        json!({"iss": ["https://is.example.com/oauth2/token"]}),
        json!({"scope": ["openid"]}),
        json!(["not", "an", "object"]),
    ] {
        assert!(
            serde_json::from_value::<TokenClaims>(payload.clone()).is_err(),
            "{payload}"
        );
    }
}

proptest! {
    /// No input makes the header parser panic; whatever it accepts names an accepted algorithm.
    #[test]
    fn the_header_parser_takes_any_input(token in "\\PC{0,200}") {
        let _ = TokenHeader::parse(&token);
    }

    #[test]
    fn the_header_parser_takes_any_three_parts(
        header in "[A-Za-z0-9_=-]{0,80}",
        payload in "[A-Za-z0-9_-]{0,20}",
        signature in "[A-Za-z0-9_.-]{0,20}",
    ) {
        let _ = TokenHeader::parse(&format!("{header}.{payload}.{signature}"));
    }

    #[test]
    fn any_json_header_is_decided(alg in "[A-Za-z0-9]{0,6}", kid in "\\PC{0,20}") {
        let token = with_header(&json!({"alg": alg, "kid": kid}));
        match TokenHeader::parse(&token) {
            Ok(header) => {
                prop_assert_eq!(SigningAlg::from_name(&alg), Some(header.alg));
                prop_assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
            }
            Err(problem) => {
                prop_assert_eq!(problem, TokenProblem::AlgorithmRefused);
                prop_assert!(SigningAlg::from_name(&alg).is_none());
            }
        }
    }

    /// The time decision, against its plain statement: valid from `nbf - 60` up to (not including) `exp + 60`.
    #[test]
    fn time_is_decided_with_the_leeway_either_way(
        now in 0i64..4_000_000_000,
        exp_offset in -200i64..200,
        nbf_offset in proptest::option::of(-200i64..200),
    ) {
        let mut extra = json!({"exp": now + exp_offset});
        if let Some(offset) = nbf_offset {
            extra["nbf"] = json!(now + offset);
        }
        let expected = if exp_offset <= -LEEWAY_SECS {
            Err(TokenProblem::Expired)
        } else if nbf_offset.is_some_and(|offset| offset > LEEWAY_SECS) {
            Err(TokenProblem::NotYetValid)
        } else {
            Ok(())
        };
        prop_assert_eq!(rules(None).check(&claims(extra), now), expected);
    }

    /// A scope is granted exactly when it is one of the space-separated items.
    #[test]
    fn a_scope_is_one_whole_item(items in proptest::collection::vec("[a-z:]{1,6}", 0..5), wanted in "[a-z:]{1,6}") {
        let extra = json!({"scope": items.join(" ")});
        let expected = if items.contains(&wanted) { Ok(()) } else { Err(TokenProblem::ScopeMissing) };
        prop_assert_eq!(rules(Some(&wanted)).check(&claims(extra), NOW), expected);
    }
}
