//! The NDJSON stream of `POST /api/v1/diagnose`: one [`Event`] per line.

use serde::{Deserialize, Serialize};

use crate::kb::KbStep;
use crate::report::{Check, Report};

// Read through `Wire` (one flat object, read in one pass): serde's own reading of an internally tagged
// enum first copies the whole line, report and all, into a generic tree and reads every type again from
// there; reading directly made the page's wasm 19.8 KB smaller (1.65 KB brotli).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case", try_from = "Wire")]
pub enum Event {
    /// A check began; `parent` places it in the tree, `kb_step` in its group of the KB (a relay older
    /// than the field sends none: it reads as no step).
    Started {
        id: String,
        title: String,
        parent: Option<String>,
        #[serde(default)]
        kb_step: Option<KbStep>,
    },
    /// A check ended (with its children, when it has any).
    Finished { check: Check },
    /// The diagnosis ended; always the last event of a successful run.
    Done { report: Report },
    /// The diagnosis could not run; `field` names the request field at fault, when one is.
    Error {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
}

/// Which [`Event`] a line is: its `event` tag.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Started,
    Finished,
    Done,
    Error,
}

/// Every field any event has, as an `Event` line spells it; [`Event`] is read through this.
#[derive(Deserialize)]
struct Wire {
    event: Kind,
    id: Option<String>,
    title: Option<String>,
    parent: Option<String>,
    kb_step: Option<KbStep>,
    check: Option<Check>,
    report: Option<Box<Report>>,
    message: Option<String>,
    field: Option<String>,
}

/// The error of a line whose `event` lacks a field that event needs.
#[derive(Debug)]
pub struct MissingField(&'static str);

impl std::fmt::Display for MissingField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "missing field `{}`", self.0)
    }
}

fn required<T>(value: Option<T>, name: &'static str) -> Result<T, MissingField> {
    value.ok_or(MissingField(name))
}

impl TryFrom<Wire> for Event {
    type Error = MissingField;

    fn try_from(wire: Wire) -> Result<Self, MissingField> {
        Ok(match wire.event {
            Kind::Started => Event::Started {
                id: required(wire.id, "id")?,
                title: required(wire.title, "title")?,
                parent: wire.parent,
                kb_step: wire.kb_step,
            },
            Kind::Finished => Event::Finished {
                check: required(wire.check, "check")?,
            },
            Kind::Done => Event::Done {
                report: *required(wire.report, "report")?,
            },
            Kind::Error => Event::Error {
                message: required(wire.message, "message")?,
                field: wire.field,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_use_the_contract_tags() {
        let line = serde_json::to_string(&Event::Started {
            id: "tls.chain".into(),
            title: "Certificate chain".into(),
            parent: Some("tls".into()),
            kb_step: Some(KbStep::Certificate),
        })
        .expect("serialise");
        assert_eq!(
            line,
            r#"{"event":"started","id":"tls.chain","title":"Certificate chain","parent":"tls","kb_step":2}"#
        );
        let back: Event =
            serde_json::from_str(r#"{"event":"error","message":"host: x","field":"host"}"#).expect("parse");
        assert_eq!(
            back,
            Event::Error {
                message: "host: x".into(),
                field: Some("host".into())
            }
        );
    }

    #[test]
    fn an_event_reads_with_its_tag_anywhere_and_names_a_missing_field() {
        let back: Event =
            serde_json::from_str(r#"{"title":"Certificate chain","id":"tls.chain","event":"started"}"#).expect("parse");
        assert_eq!(
            back,
            Event::Started {
                id: "tls.chain".into(),
                title: "Certificate chain".into(),
                parent: None,
                kb_step: None,
            }
        );
        let missing = serde_json::from_str::<Event>(r#"{"event":"started","id":"tls"}"#).expect_err("no title");
        assert!(missing.to_string().contains("missing field `title`"), "{missing}");
        let unknown = serde_json::from_str::<Event>(r#"{"event":"paused"}"#).expect_err("no such event");
        assert!(unknown.to_string().contains("unknown variant `paused`"), "{unknown}");
    }
}
