//! The fields a user fills in: one name for the wire, the page and the command line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A field of a diagnose request (and the relay's access token): what an error names, what the page's
/// form holds, what `migcheck check` takes as a flag. Serialised as the request spells it (`rpc_proxy`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The request's tag: `host`, `autodiscover`, `outlook_anywhere` or `remote_move`.
    Mode,
    Host,
    Port,
    Email,
    RpcProxy,
    ExchangeServer,
    Auth,
    RemoteServer,
    User,
    Password,
    TargetMailbox,
    AllowCredentialRedirect,
    /// The servers behind the remote server's name, each checked directly (`ex01,ex02`).
    Servers,
    /// The internal server the Hybrid Agent publishes (its `-targetUri`), in a remote move to a Hybrid
    /// Agent name.
    AgentTarget,
    /// The relay's access token (`migcheck serve --token-env`): not in the request but in its
    /// `Authorization` header; the relay's 401 names it.
    Token,
}

impl Field {
    /// Every field, in the order of [`Field`].
    pub const ALL: [Field; 15] = [
        Field::Mode,
        Field::Host,
        Field::Port,
        Field::Email,
        Field::RpcProxy,
        Field::ExchangeServer,
        Field::Auth,
        Field::RemoteServer,
        Field::User,
        Field::Password,
        Field::TargetMailbox,
        Field::AllowCredentialRedirect,
        Field::Servers,
        Field::AgentTarget,
        Field::Token,
    ];

    /// The name on the wire (`rpc_proxy`), the same as its serde form.
    pub fn name(self) -> &'static str {
        match self {
            Field::Mode => "mode",
            Field::Host => "host",
            Field::Port => "port",
            Field::Email => "email",
            Field::RpcProxy => "rpc_proxy",
            Field::ExchangeServer => "exchange_server",
            Field::Auth => "auth",
            Field::RemoteServer => "remote_server",
            Field::User => "user",
            Field::Password => "password",
            Field::TargetMailbox => "target_mailbox",
            Field::AllowCredentialRedirect => "allow_credential_redirect",
            Field::Servers => "servers",
            Field::AgentTarget => "agent_target",
            Field::Token => "token",
        }
    }

    /// The field the wire `name` stands for; `None` for a name no request has.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The flag of the command line that gives it (`--rpc-proxy`). The password and the token are taken
    /// only from an environment variable the flag names (`--password-env`, `--token-env` of `serve`). The
    /// mode has none: `migcheck check` picks it from the server flag given.
    pub fn flag(self) -> Option<&'static str> {
        Some(match self {
            Field::Mode => return None,
            Field::Host => "--host",
            Field::Port => "--port",
            Field::Email => "--email",
            Field::RpcProxy => "--rpc-proxy",
            Field::ExchangeServer => "--exchange-server",
            Field::Auth => "--auth",
            Field::RemoteServer => "--remote-server",
            Field::User => "--user",
            Field::Password => "--password-env",
            Field::TargetMailbox => "--target-mailbox",
            Field::AllowCredentialRedirect => "--allow-credential-redirect",
            Field::Servers => "--servers",
            Field::AgentTarget => "--agent-target",
            Field::Token => "--token-env",
        })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_is_the_serde_name_and_reads_back() {
        for field in Field::ALL {
            assert_eq!(
                serde_json::to_string(&field).expect("serialise"),
                format!("\"{}\"", field.name())
            );
            assert_eq!(
                serde_json::from_str::<Field>(&format!("\"{}\"", field.name())).ok(),
                Some(field)
            );
            assert_eq!(Field::from_name(field.name()), Some(field));
            assert_eq!(field.to_string(), field.name());
        }
        assert_eq!(Field::from_name("hots"), None);
        assert_eq!(
            Field::from_name("run"),
            None,
            "the page's place next to Run is not a field"
        );
    }

    #[test]
    fn flags_are_the_names_with_dashes_and_secrets_come_from_the_environment() {
        for field in Field::ALL {
            let Some(flag) = field.flag() else {
                assert_eq!(field, Field::Mode);
                continue;
            };
            let expected = match field {
                Field::Password | Field::Token => format!("--{}-env", field.name()),
                _ => format!("--{}", field.name().replace('_', "-")),
            };
            assert_eq!(flag, expected);
        }
    }
}
