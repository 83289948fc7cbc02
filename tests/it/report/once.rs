//! Once per change across instances: two instances sharing one once-per-change table (moto's DynamoDB), the
//! second click on either reads "already reported", and the record lives as long as the link.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{fresh, notice_link, open, press, report_vars, token_of};
use crate::idempotency::{dynamodb, table};
use crate::support::{SesScope, TestApp, moto};

async fn instance(ses: &SesScope, table: &str) -> TestApp {
    let mut vars = ses.vars();
    vars.extend(report_vars(&[
        ("IDEMPOTENCY_TABLE", table),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto().endpoint.as_str()),
    ]));
    TestApp::new(&vars).await
}

#[tokio::test]
async fn a_second_click_on_another_instance_reads_already_reported() {
    let ses = SesScope::new().await;
    let table = table().await;
    let (a, b) = (instance(&ses, &table).await, instance(&ses, &table).await);
    let token = token_of(&notice_link(&a, &ses, &fresh("u")).await);
    let alerts = ses.alerts().await.len();

    let first = press(&b, &token).await;
    assert!(
        first.html.contains("the security team has been told"),
        "{}",
        first.html
    );
    let second = press(&a, &token).await;
    assert!(second.html.contains("Already reported"), "{}", second.html);
    assert!(open(&a, &token).await.html.contains("Already reported"));
    assert_eq!(
        ses.alerts().await.len(),
        alerts + 1,
        "one alert for two clicks"
    );

    let items = dynamodb()
        .await
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let record = items
        .items()
        .iter()
        .find(|i| i["id"].as_s().is_ok_and(|id| id.starts_with("rpt-")))
        .expect("the report's record");
    assert_eq!(record["status"].as_s().unwrap(), "COMPLETED");
    let expiration: u64 = record["expiration"].as_n().unwrap().parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let week = 604_800;
    assert!(
        expiration > now + week - 120 && expiration < now + week + 120,
        "kept as long as the link works: {}",
        expiration - now
    );
}
