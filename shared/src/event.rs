//! The NDJSON stream of `POST /api/v1/diagnose`: one [`Event`] per line.

use serde::{Deserialize, Serialize};

use crate::kb::KbStep;
use crate::report::{Check, Report};

/// Read in one pass through [`crate::wire`], not serde's buffering of an internally tagged enum.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case", try_from = "crate::wire::EventWire")]
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
}
