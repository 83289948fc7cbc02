//! What starts a catch-up run in Lambda: the template's EventBridge schedule, whose event is the scheduled-event
//! shape (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`), or `{"okta_catchup": true}` sent by hand
//! (`sam remote invoke`). Anything else (an API Gateway event sent to the wrong function, a test event) is
//! refused, so a misrouted call never reads the log.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// EventBridge's schedule.
    Schedule,
    /// `{"okta_catchup": true}`.
    ByHand,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::ByHand => "by_hand",
        }
    }
}

/// Why a payload does not start a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a catch-up trigger: expected EventBridge's scheduled event or {{\"okta_catchup\": true}}"
)]
pub struct NotATrigger;

pub fn read(payload: &Value) -> Result<Trigger, NotATrigger> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    if field("source") == Some("aws.events") && field("detail-type") == Some("Scheduled Event") {
        return Ok(Trigger::Schedule);
    }
    match payload.as_object() {
        Some(o) if o.len() == 1 && o.get("okta_catchup") == Some(&Value::Bool(true)) => {
            Ok(Trigger::ByHand)
        }
        _ => Err(NotATrigger),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schedule_and_the_hand_start_a_run_nothing_else_does() {
        let scheduled = json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-11-26T10:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/profile-guard-OktaCatchup"], "detail": {}});
        assert_eq!(read(&scheduled), Ok(Trigger::Schedule));
        assert_eq!(read(&json!({"okta_catchup": true})), Ok(Trigger::ByHand));
        for other in [
            json!({"okta_catchup": false}),
            json!({"okta_catchup": true, "since": "1970"}),
            json!({"okta_catchup": "true"}),
            json!({"check": true}),
            json!({"source": "aws.events", "detail-type": "EC2 Instance State-change Notification"}),
            json!({"version": "2.0", "routeKey": "POST /hooks/okta", "body": "{}"}),
            json!([]),
            json!(null),
        ] {
            assert_eq!(read(&other), Err(NotATrigger), "{other}");
        }
    }
}
