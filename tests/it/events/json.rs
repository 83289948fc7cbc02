//! JSON whose objects keep their keys in the order written. serde_json's `Value` sorts them (its `preserve_order`
//! feature is off, and turning it on for the tests would build the dependencies twice), while a sample should read
//! like the payload it imitates, and keep reading the same when it is written again.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// A string, number, boolean or null.
    Scalar(Value),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// An object with these keys, in this order: `object! {"a": 1, "b": "two"}`. Values are anything `Json` is made
/// `From`.
macro_rules! object {
    ($($key:literal: $value:expr),* $(,)?) => {
        $crate::events::json::Json::Object(vec![
            $(($key.to_owned(), Into::<$crate::events::json::Json>::into($value))),*
        ])
    };
}
pub(crate) use object;

impl Json {
    pub const NULL: Json = Json::Scalar(Value::Null);

    /// An object with keys made at run time, in the order given.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Sets `key` where it is, or adds it at the end; `self` must be an object.
    pub fn set(&mut self, key: &str, value: impl Into<Json>) {
        let Json::Object(pairs) = self else {
            panic!("set {key} on a non-object");
        };
        let value = value.into();
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => *old = value,
            None => pairs.push((key.to_owned(), value)),
        }
    }

    /// Sets `key` first, wherever it was; `self` must be an object.
    pub fn set_first(&mut self, key: &str, value: impl Into<Json>) {
        let Json::Object(pairs) = self else {
            panic!("set {key} on a non-object");
        };
        pairs.retain(|(k, _)| k != key);
        pairs.insert(0, (key.to_owned(), value.into()));
    }

    /// On one line, no spaces: as a client sends a body.
    pub fn compact(&self) -> String {
        serde_json::to_string(self).expect("JSON serialises")
    }

    /// Indented by two, with a final newline: as the sample files are written.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("JSON serialises") + "\n"
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Scalar(Value::from(s))
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Scalar(Value::from(s))
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Json {
        Json::from(s.as_str())
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Scalar(Value::from(n))
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Scalar(Value::from(b))
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::NULL, Into::into)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Scalar(v) => v.serialize(s),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Scalar(Value::from(b)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Scalar(Value::from(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Scalar(Value::from(n)))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        Ok(Json::Scalar(Value::from(n)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::from(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::from(s))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::NULL)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::NULL)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry()? {
            pairs.push((k, v));
        }
        Ok(Json::Object(pairs))
    }
}
