//! How the two internally tagged types of the contract are read: [`Event`] (tagged `event`) and
//! [`DiagnoseRequest`] (tagged `mode`). Both still derive `Deserialize`, with `try_from` one of the flat
//! structs here: every field any variant has, read in one pass, then the variant's rules checked.
//!
//! Why not serde's own reading of an internally tagged enum: it first copies the whole object (for a
//! `done` event, the whole report) into its generic `Content` tree and then reads every type a second
//! time from there. The page carried that code for nothing: reading through these structs made it
//! 9.5 KB (brotli) smaller (the event 5.2 KB, the request 4.3 KB). Writing is unchanged (the tag first).
//!
//! The words of an error are serde's own (`missing field`, `unknown field`, `unknown variant`,
//! `duplicate field`), and a request reads as serde read it (`tests` compares both readings). Where they
//! part: with several faults at once the one named may differ; a field no mode has lists every mode's
//! fields as expected; a field of another mode holding a value of the wrong type is refused for its type,
//! not as unknown; a mode that is not a string says "expected value". The one reader that shows these
//! words to a person is `migcheck serve --demo FILE` (a demo lab's file, its passwords public by design).
//! The relay's API reads a request with its own parser (`relay/src/api.rs`), field by field, and is not
//! affected.

use serde::Deserialize;
use serde::de::value::Error;
use serde::de::{Deserializer, Error as _};

use crate::event::Event;
use crate::kb::KbStep;
use crate::report::{Check, Report};
use crate::request::{
    AuthMethod, AutodiscoverTarget, DiagnoseRequest, HostTarget, OutlookAnywhereTarget, RemoteMoveTarget,
};
use crate::secret::Password;

fn required<T>(value: Option<T>, name: &'static str) -> Result<T, Error> {
    value.ok_or_else(|| Error::missing_field(name))
}

/// A field that may be absent but, when there, must be a `T` (`null` only where `T` takes it), as the
/// variant's own field would read it.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Which [`Event`] a line is: its `event` tag.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum EventKind {
    Started,
    Finished,
    Done,
    Error,
}

/// Every field any [`Event`] has.
#[derive(Deserialize)]
pub(crate) struct EventWire {
    event: EventKind,
    id: Option<String>,
    title: Option<String>,
    parent: Option<String>,
    kb_step: Option<KbStep>,
    check: Option<Check>,
    report: Option<Box<Report>>,
    message: Option<String>,
    field: Option<String>,
}

impl TryFrom<EventWire> for Event {
    type Error = Error;

    fn try_from(wire: EventWire) -> Result<Self, Error> {
        Ok(match wire.event {
            EventKind::Started => Event::Started {
                id: required(wire.id, "id")?,
                title: required(wire.title, "title")?,
                parent: wire.parent,
                kb_step: wire.kb_step,
            },
            EventKind::Finished => Event::Finished {
                check: required(wire.check, "check")?,
            },
            EventKind::Done => Event::Done {
                report: *required(wire.report, "report")?,
            },
            EventKind::Error => Event::Error {
                message: required(wire.message, "message")?,
                field: wire.field,
            },
        })
    }
}

/// A [`DiagnoseRequest`]'s `mode` tag.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Host,
    Autodiscover,
    OutlookAnywhere,
    RemoteMove,
    Outside,
}

impl Mode {
    /// The fields of the mode's target struct, in their order there (serde's `expected` list).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Mode::Host | Mode::Outside => &["host", "port"],
            Mode::Autodiscover => &[
                "email",
                "user",
                "password",
                "allow_credential_redirect",
                "target_mailbox",
            ],
            Mode::OutlookAnywhere => &[
                "rpc_proxy",
                "exchange_server",
                "auth",
                "user",
                "password",
                "target_mailbox",
            ],
            Mode::RemoteMove => &[
                "remote_server",
                "user",
                "password",
                "target_mailbox",
                "servers",
                "agent_target",
            ],
        }
    }
}

/// Every field any mode's target has (a field of a target must be added here too; `tests` reads a
/// request of each mode with every field set). `Some`: the field was there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestWire {
    mode: Mode,
    #[serde(default, deserialize_with = "present")]
    host: Option<String>,
    #[serde(default, deserialize_with = "present")]
    port: Option<Option<u16>>,
    #[serde(default, deserialize_with = "present")]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    user: Option<String>,
    #[serde(default, deserialize_with = "present")]
    password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    allow_credential_redirect: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    target_mailbox: Option<String>,
    #[serde(default, deserialize_with = "present")]
    rpc_proxy: Option<String>,
    #[serde(default, deserialize_with = "present")]
    exchange_server: Option<String>,
    #[serde(default, deserialize_with = "present")]
    auth: Option<AuthMethod>,
    #[serde(default, deserialize_with = "present")]
    remote_server: Option<String>,
    #[serde(default, deserialize_with = "present")]
    servers: Option<String>,
    #[serde(default, deserialize_with = "present")]
    agent_target: Option<String>,
}

impl RequestWire {
    /// The first field present that the mode's target does not have, as serde's `deny_unknown_fields`
    /// names it.
    fn foreign_field(&self) -> Result<(), Error> {
        let present = [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("email", self.email.is_some()),
            ("user", self.user.is_some()),
            ("password", self.password.is_some()),
            ("allow_credential_redirect", self.allow_credential_redirect.is_some()),
            ("target_mailbox", self.target_mailbox.is_some()),
            ("rpc_proxy", self.rpc_proxy.is_some()),
            ("exchange_server", self.exchange_server.is_some()),
            ("auth", self.auth.is_some()),
            ("remote_server", self.remote_server.is_some()),
            ("servers", self.servers.is_some()),
            ("agent_target", self.agent_target.is_some()),
        ];
        let fields = self.mode.fields();
        match present.iter().find(|(name, there)| *there && !fields.contains(name)) {
            Some((name, _)) => Err(Error::unknown_field(name, fields)),
            None => Ok(()),
        }
    }
}

impl TryFrom<RequestWire> for DiagnoseRequest {
    type Error = Error;

    fn try_from(wire: RequestWire) -> Result<Self, Error> {
        wire.foreign_field()?;
        Ok(match wire.mode {
            Mode::Host => DiagnoseRequest::Host(HostTarget {
                host: required(wire.host, "host")?,
                port: wire.port.flatten(),
            }),
            Mode::Outside => DiagnoseRequest::Outside(HostTarget {
                host: required(wire.host, "host")?,
                port: wire.port.flatten(),
            }),
            Mode::Autodiscover => DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                email: required(wire.email, "email")?,
                user: wire.user.unwrap_or_default(),
                password: wire.password.unwrap_or_default(),
                allow_credential_redirect: wire.allow_credential_redirect.unwrap_or_default(),
                target_mailbox: wire.target_mailbox.unwrap_or_default(),
            }),
            Mode::OutlookAnywhere => DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
                rpc_proxy: required(wire.rpc_proxy, "rpc_proxy")?,
                exchange_server: required(wire.exchange_server, "exchange_server")?,
                auth: wire.auth.unwrap_or_default(),
                user: required(wire.user, "user")?,
                password: wire.password.unwrap_or_default(),
                target_mailbox: wire.target_mailbox.unwrap_or_default(),
            }),
            Mode::RemoteMove => DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                remote_server: required(wire.remote_server, "remote_server")?,
                user: required(wire.user, "user")?,
                password: wire.password.unwrap_or_default(),
                target_mailbox: wire.target_mailbox.unwrap_or_default(),
                servers: wire.servers.unwrap_or_default(),
                agent_target: wire.agent_target.unwrap_or_default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde's own reading of the request, as `DiagnoseRequest` derived it before `RequestWire`.
    #[derive(Deserialize, Debug)]
    #[serde(tag = "mode", rename_all = "snake_case")]
    enum Reference {
        Host(HostTarget),
        Autodiscover(AutodiscoverTarget),
        OutlookAnywhere(OutlookAnywhereTarget),
        RemoteMove(RemoteMoveTarget),
        Outside(HostTarget),
    }

    impl From<Reference> for DiagnoseRequest {
        fn from(r: Reference) -> Self {
            match r {
                Reference::Host(t) => DiagnoseRequest::Host(t),
                Reference::Autodiscover(t) => DiagnoseRequest::Autodiscover(t),
                Reference::OutlookAnywhere(t) => DiagnoseRequest::OutlookAnywhere(t),
                Reference::RemoteMove(t) => DiagnoseRequest::RemoteMove(t),
                Reference::Outside(t) => DiagnoseRequest::Outside(t),
            }
        }
    }

    /// Both readings of `json`: the request, or the error without serde_json's position.
    fn both(json: &str) -> (Result<DiagnoseRequest, String>, Result<DiagnoseRequest, String>) {
        let words = |e: serde_json::Error| {
            let e = e.to_string();
            e.split(" at line ").next().unwrap_or_default().to_string()
        };
        (
            serde_json::from_str::<DiagnoseRequest>(json).map_err(words),
            serde_json::from_str::<Reference>(json)
                .map(DiagnoseRequest::from)
                .map_err(words),
        )
    }

    #[test]
    fn every_field_of_every_mode_reads_back_as_serde_read_it() {
        let requests = [
            DiagnoseRequest::Host(HostTarget {
                host: "mail.contoso.com".into(),
                port: Some(8443),
            }),
            DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                email: "adele@contoso.com".into(),
                user: "CONTOSO\\migration".into(),
                password: Password::new("pw"),
                allow_credential_redirect: true,
                target_mailbox: "alex@contoso.com".into(),
            }),
            DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
                rpc_proxy: "mail.contoso.com".into(),
                exchange_server: "ex01.contoso.com".into(),
                auth: AuthMethod::Ntlm,
                user: "migration@contoso.com".into(),
                password: Password::new("pw"),
                target_mailbox: "alex@contoso.com".into(),
            }),
            DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                remote_server: "mail.contoso.com".into(),
                user: "migration@contoso.com".into(),
                password: Password::new("pw"),
                target_mailbox: "alex@contoso.com".into(),
                servers: "ex01,ex02".into(),
                agent_target: "ex01.contoso.com".into(),
            }),
        ];
        for request in requests {
            let json = serde_json::to_string(&request).expect("serialise");
            let (wire, reference) = both(&json);
            assert_eq!(wire.as_ref(), Ok(&request), "{json}");
            assert_eq!(wire, reference, "{json}");
        }
    }

    #[test]
    fn a_request_with_its_mode_first_reads_and_fails_as_serde_read_it() {
        for json in [
            r#"{"mode":"host","host":"mail.contoso.com"}"#,
            r#"{"mode":"host","host":"mail.contoso.com","port":null}"#,
            r#"{"mode":"autodiscover","email":"adele@contoso.com"}"#,
            r#"{"mode":"outlook_anywhere","rpc_proxy":"p","exchange_server":"e","user":"u"}"#,
            r#"{"mode":"remote_move","remote_server":"r","user":"u","password":""}"#,
            r#"{"mode":"host"}"#,
            r#"{"mode":"host","port":443}"#,
            r#"{"mode":"host","host":"h","email":"adele@contoso.com"}"#,
            r#"{"mode":"host","host":"h","password":"pw"}"#,
            r#"{"mode":"autodiscover","email":"e","port":null}"#,
            r#"{"mode":"autodiscover","email":"e","rpc_proxy":"p"}"#,
            r#"{"mode":"autodiscover","email":"e","user":null}"#,
            r#"{"mode":"autodiscover","email":"e","allow_credential_redirect":"yes"}"#,
            r#"{"mode":"outlook_anywhere","rpc_proxy":"p","exchange_server":"e"}"#,
            r#"{"mode":"outlook_anywhere","rpc_proxy":"p","exchange_server":"e","user":"u","auth":"kerberos"}"#,
            r#"{"mode":"outlook_anywhere","user":"u"}"#,
            r#"{"mode":"remote_move","user":"u"}"#,
            r#"{"mode":"remote_move","remote_server":"r","user":"u","agent_target":7}"#,
            r#"{"mode":"remote_move","remote_server":"r","user":"u","email":"e"}"#,
            r#"{"mode":"host","host":"h","host":"h"}"#,
            r#"{"mode":"host","mode":"host","host":"h"}"#,
            r#"{"mode":"pop3","host":"h"}"#,
            r#"{"host":"h"}"#,
        ] {
            let (wire, reference) = both(json);
            assert_eq!(wire, reference, "{json}");
        }
    }

    /// Refused by both, in other words: a mode that is not a string says "expected value" (serde_json
    /// points at it), what is not an object names `RequestWire`, another mode's field of the wrong type
    /// is refused for its type.
    #[test]
    fn a_mode_that_is_no_string_and_what_is_no_object_are_refused() {
        for json in [
            r#"{"mode":7,"host":"h"}"#,
            "[]",
            r#""host""#,
            r#"{"mode":"host","host":"h","auth":"kerberos"}"#,
        ] {
            let (wire, reference) = both(json);
            assert!(wire.is_err() && reference.is_err(), "{json}: {wire:?}");
        }
    }

    #[test]
    fn a_field_no_mode_has_is_refused() {
        let (wire, _) = both(r#"{"mode":"host","host":"h","colour":"blue"}"#);
        let error = wire.expect_err("refused");
        assert!(error.starts_with("unknown field `colour`"), "{error}");
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
