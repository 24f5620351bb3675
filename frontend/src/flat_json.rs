//! A flat JSON object (strings, numbers, booleans, null; nothing nested) read as its members in key
//! order: the relay's error body and a report's inputs. `serde_json::Value` would do the same, but its
//! parser, printer and `to_value` serializer cost the page 2.6 KB (brotli) for these two small objects.

use std::fmt;

use migcheck_shared::sort::sort_by;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

/// One member's value.
#[derive(Debug, PartialEq)]
pub enum Scalar {
    Str(String),
    /// A number, `true`, `false` or `null`, as JSON writes it.
    Other(String),
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            Scalar::Other(_) => None,
        }
    }

    /// The value as a person reads it: a string without its quotes, anything else as JSON writes it.
    pub fn text(&self) -> &str {
        match self {
            Scalar::Str(s) | Scalar::Other(s) => s,
        }
    }
}

/// The members, sorted by key.
#[derive(Debug, PartialEq)]
pub struct Members(pub Vec<(String, Scalar)>);

impl Members {
    /// `None` when `text` is not a flat JSON object.
    pub fn parse(text: &str) -> Option<Members> {
        crate::json::from_json(text).ok()
    }

    /// The string value of `key`; `None` when it is absent or not a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str())
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other("null".to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Scalar>()? {
                    members.push(member);
                }
                sort_by(&mut members, |a, b| a.0.cmp(&b.0));
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_sorted_with_strings_unquoted_and_the_rest_as_json() {
        let members =
            Members::parse(r#"{"mode":"host","port":443,"host":"mail.contoso.com","x":true,"y":null,"z":-1}"#)
                .expect("a flat object");
        let text: Vec<(&str, &str)> = members.0.iter().map(|(k, v)| (k.as_str(), v.text())).collect();
        assert_eq!(
            text,
            [
                ("host", "mail.contoso.com"),
                ("mode", "host"),
                ("port", "443"),
                ("x", "true"),
                ("y", "null"),
                ("z", "-1")
            ]
        );
        assert_eq!(members.str("mode"), Some("host"));
        assert_eq!(members.str("port"), None, "not a string");
        assert_eq!(members.str("absent"), None);
    }

    #[test]
    fn anything_but_a_flat_object_is_none() {
        for text in ["", "[]", "\"error\"", "{\"a\":{}}", "{\"a\":[1]}", "not json"] {
            assert_eq!(Members::parse(text), None, "{text}");
        }
    }
}
