//! Once per change across instances: two service instances sharing one DynamoDB table (moto's emulation).

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ONCE_PER_CHANGE_KEY, ONCE_PER_CHANGE_TTL, SesScope, TestApp, closed_port,
    create_once_per_change_table, moto, repo_file, success, tutorial,
};

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    let sdk = crate::support::moto_sdk().await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// A fresh table shaped as template.yaml declares it.
pub async fn table() -> String {
    let name = format!("pg-idem-{}", uuid::Uuid::new_v4().simple());
    create_once_per_change_table(&dynamodb().await, &name).await;
    name
}

/// The tables the tests and `make smoke` create are the one template.yaml deploys.
#[test]
fn the_table_schema_is_the_templates() {
    let template = repo_file("template.yaml");
    let store = template
        .split("\n  OncePerChangeStore:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("template.yaml declares OncePerChangeStore");
    let key = ONCE_PER_CHANGE_KEY;
    let schema = format!(
        "      AttributeDefinitions:\n        - AttributeName: {key}\n          AttributeType: S\n      \
         KeySchema:\n        - AttributeName: {key}\n          KeyType: HASH\n      \
         TimeToLiveSpecification:\n        AttributeName: {ONCE_PER_CHANGE_TTL}\n        Enabled: true"
    );
    assert!(
        store.contains(&schema),
        "OncePerChangeStore in template.yaml is not the schema of tests/it/support/moto.rs:\n{store}"
    );
}

/// A fresh table in the emulator, and the variables that point an instance at it.
pub struct SharedTable {
    table: String,
    endpoint: String,
}

impl SharedTable {
    pub fn vars(&self) -> [(&str, &str); 2] {
        [
            ("IDEMPOTENCY_TABLE", self.table.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.as_str()),
        ]
    }
}

pub async fn shared_table() -> SharedTable {
    SharedTable {
        table: table().await,
        endpoint: moto().endpoint.clone(),
    }
}

fn with_request_id(id: &str) -> String {
    tutorial().replacen('{', &format!(r#"{{"requestId":"{id}","#), 1)
}

#[tokio::test]
async fn a_retry_on_another_instance_sends_nothing_and_gets_the_same_answer() {
    let ses = SesScope::new().await;
    let table = table().await;
    let moto_endpoint = moto().endpoint.clone();
    let mut vars = ses.vars();
    vars.push(("IDEMPOTENCY_TABLE", table.as_str()));
    vars.push(("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint.as_str()));
    let first = TestApp::new(&vars).await;
    let second = TestApp::new(&vars).await;
    let body = with_request_id("cross-instance-1");
    assert_eq!(first.post(body.clone()).await.body, success());
    assert_eq!(second.post(body).await.body, success());
    assert_eq!(ses.alerts().await.len(), 1, "one alert for one change");
    assert_eq!(ses.notices().await.len(), 1, "one notice for one change");

    let item = dynamodb()
        .await
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items()
        .first()
        .cloned()
        .expect("the record is stored");
    assert_eq!(
        item.get("status"),
        Some(&AttributeValue::S("COMPLETED".into()))
    );
    assert!(
        item.get("expiration").and_then(|v| v.as_n().ok()).is_some(),
        "TTL attribute set"
    );
}

#[tokio::test]
async fn a_duplicate_in_flight_on_another_instance_waits_for_the_first_answer() {
    let ses = SesScope::new().await;
    let table = table().await;
    let moto_endpoint = moto().endpoint.clone();
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_millis(600)))
        .mount(&directory)
        .await;
    let url = format!("{}/d/{{department}}", directory.uri());
    let mut vars = ses.vars();
    vars.push(("IDEMPOTENCY_TABLE", table.as_str()));
    vars.push(("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint.as_str()));
    vars.push(("DEPARTMENT_API_URL", url.as_str()));
    let first = TestApp::new(&vars).await;
    let second = TestApp::new(&vars).await;
    let body = with_request_id("in-flight-1");
    let (a, b) = tokio::join!(first.post(body.clone()), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        second.post(body.clone()).await
    });
    assert_eq!(a.body["failureReason"], "invalid_department_input");
    assert_eq!(
        b.body, a.body,
        "the duplicate answers as the first call did"
    );
    assert_eq!(
        directory.received_requests().await.unwrap().len(),
        1,
        "the work was done once"
    );
}

#[tokio::test]
async fn an_unreachable_table_does_not_block_the_update() {
    let ses = SesScope::new().await;
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let mut vars = ses.vars();
    vars.push(("IDEMPOTENCY_TABLE", "pg-idem-missing"));
    vars.push(("AWS_ENDPOINT_URL_DYNAMODB", dead.as_str()));
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(with_request_id("no-table-1")).await.body,
        success()
    );
    assert_eq!(
        ses.alerts().await.len(),
        1,
        "an alert twice is better than a change nobody heard about"
    );
}

#[tokio::test]
async fn an_expired_record_does_not_hide_a_new_change() {
    let ses = SesScope::new().await;
    let table = table().await;
    let moto_endpoint = moto().endpoint.clone();
    let mut vars = ses.vars();
    vars.push(("IDEMPOTENCY_TABLE", table.as_str()));
    vars.push(("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint.as_str()));
    let app = TestApp::new(&vars).await;
    assert_eq!(app.post(with_request_id("expired-1")).await.body, success());
    // Age the record past its TTL, as DynamoDB's clock would.
    let client = dynamodb().await;
    let items = client.scan().table_name(&table).send().await.unwrap();
    let id = items.items()[0].get("id").unwrap().clone();
    client
        .update_item()
        .table_name(&table)
        .key("id", id)
        .update_expression("SET expiration = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    // A second instance (its own warm cache is empty) treats the change as new.
    let other = TestApp::new(&vars).await;
    assert_eq!(
        other.post(with_request_id("expired-1")).await.body,
        success()
    );
    assert_eq!(ses.alerts().await.len(), 2);
}
