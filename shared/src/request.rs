//! What the page (or `migcheck check`) asks the relay to do.

use serde::{Deserialize, Serialize};

use crate::field::Field;
use crate::input::{self, HostPort, InputError};
use crate::secret::Password;

/// One diagnosis to run. The `mode` tag picks which of the KB's checks apply. Read in one pass through
/// [`crate::wire`], not serde's buffering of an internally tagged enum.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case", try_from = "crate::wire::RequestWire")]
pub enum DiagnoseRequest {
    /// The checks that need only a server name: the certificate and TLS checks of KB step 2.
    Host(HostTarget),
    /// KB step 3, as `Test-MigrationServerAvailability -Autodiscover -EmailAddress -Credentials`:
    /// Autodiscover for an address, then the certificate of the Outlook Anywhere host it returns.
    Autodiscover(AutodiscoverTarget),
    /// KB step 1, as `Test-MigrationServerAvailability -ExchangeServer -RPCProxyServer -Authentication`:
    /// the server names typed in, then Outlook Anywhere (RPC over HTTP) checked through the proxy.
    OutlookAnywhere(OutlookAnywhereTarget),
    /// A remote move (the other migration type), as `Test-MigrationServerAvailability -ExchangeRemoteMove
    /// -RemoteServer -Credentials`: EWS and the MRS Proxy endpoint on the server named.
    RemoteMove(RemoteMoveTarget),
    /// The view from outside (`--compare-with`): the checks that need no password on a public name, the
    /// host's DNS, TCP, TLS and certificate and who answers each Exchange path anonymously. What a relay
    /// inside a network asks a relay on the internet to look at; it carries no account and no password.
    Outside(HostTarget),
}

/// The fields of the `remote_move` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RemoteMoveTarget {
    /// The MRS Proxy host (`-RemoteServer`), e.g. mail.contoso.com.
    pub remote_server: String,
    /// The migration account: user@domain or DOMAIN\user.
    pub user: String,
    /// Left out of a report's copy of the inputs.
    #[serde(default, skip_serializing_if = "Password::is_empty")]
    pub password: Password,
    /// A mailbox the account must open (Full Access); empty: not checked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_mailbox: String,
    /// The servers behind `remote_server`, as typed: names or addresses separated by commas;
    /// each is checked directly with `remote_server` still the name asked for (SNI and Host).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub servers: String,
    /// With a Hybrid Agent name as the remote server: the internal server the agent publishes (its
    /// `-targetUri`, the CAS chosen in the Hybrid Configuration wizard or a load balancer); empty: only
    /// the agent machine's outbound connections are checked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent_target: String,
}

/// How the migration service logs on to the RPC proxy (`-Authentication Basic|NTLM`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    #[default]
    Basic,
    Ntlm,
}

impl AuthMethod {
    /// As Exchange writes it (`Basic`, `NTLM`).
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Basic => "Basic",
            AuthMethod::Ntlm => "NTLM",
        }
    }
}

/// The fields of the `outlook_anywhere` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OutlookAnywhereTarget {
    /// The Outlook Anywhere host (`-RPCProxyServer`), e.g. mail.contoso.com.
    pub rpc_proxy: String,
    /// The RPC server behind it (`-ExchangeServer`): the mailbox server's FQDN, or
    /// `<mailbox-guid>@<domain>` for Exchange 2013 and later.
    pub exchange_server: String,
    #[serde(default)]
    pub auth: AuthMethod,
    /// The migration account: user@domain or DOMAIN\user.
    pub user: String,
    /// Left out of a report's copy of the inputs.
    #[serde(default, skip_serializing_if = "Password::is_empty")]
    pub password: Password,
    /// A mailbox the account must open through EWS (Full Access); empty: not checked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_mailbox: String,
}

/// The fields of the `autodiscover` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AutodiscoverTarget {
    /// The e-mail address of a mailbox to migrate.
    pub email: String,
    /// The migration account: user@domain, DOMAIN\user, or empty for the e-mail address.
    #[serde(default)]
    pub user: String,
    /// Left out of a report's copy of the inputs.
    #[serde(default, skip_serializing_if = "Password::is_empty")]
    pub password: Password,
    /// The user agreed that the password may go to hosts outside the e-mail address's domain.
    #[serde(default)]
    pub allow_credential_redirect: bool,
    /// The mailbox the account must open through EWS (Full Access); empty: the e-mail address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_mailbox: String,
}

/// The fields of the `host` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HostTarget {
    /// The Outlook Anywhere host name as typed (a pasted URL is understood).
    pub host: String,
    /// TCP port; when absent, the port of a pasted `https://` URL, else 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl DiagnoseRequest {
    /// The modes, as the `mode` field spells them.
    pub const MODES: &'static [&'static str] = &["host", "autodiscover", "outlook_anywhere", "remote_move", "outside"];

    /// The mode as the `mode` field spells it.
    pub fn mode(&self) -> &'static str {
        match self {
            DiagnoseRequest::Host(_) => "host",
            DiagnoseRequest::Autodiscover(_) => "autodiscover",
            DiagnoseRequest::OutlookAnywhere(_) => "outlook_anywhere",
            DiagnoseRequest::RemoteMove(_) => "remote_move",
            DiagnoseRequest::Outside(_) => "outside",
        }
    }

    /// The password-less view from outside of this request: the public name it is about (the host, the
    /// RPC proxy, the remote server, or `autodiscover.` and the e-mail address's domain). Nothing else
    /// of the request goes: no account, no mailbox, no internal server name.
    pub fn outside_view(&self) -> DiagnoseRequest {
        let host = |host: &str| HostTarget {
            host: host.to_string(),
            port: None,
        };
        DiagnoseRequest::Outside(match self {
            DiagnoseRequest::Host(t) | DiagnoseRequest::Outside(t) => t.clone(),
            DiagnoseRequest::Autodiscover(t) => {
                let domain = t.email.rsplit_once('@').map_or(t.email.as_str(), |(_, d)| d).trim();
                host(&format!("autodiscover.{domain}"))
            }
            DiagnoseRequest::OutlookAnywhere(t) => host(&t.rpc_proxy),
            DiagnoseRequest::RemoteMove(t) => host(&t.remote_server),
        })
    }

    /// The whole request as it goes to a relay outside with the user's consent: without the servers behind
    /// the name and a Hybrid Agent's published server, which only a relay inside can reach.
    pub fn for_outside(&self) -> DiagnoseRequest {
        match self {
            DiagnoseRequest::RemoteMove(t) => DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                servers: String::new(),
                agent_target: String::new(),
                ..t.clone()
            }),
            other => other.clone(),
        }
    }

    /// Whether the request carries a password.
    pub fn has_password(&self) -> bool {
        match self {
            DiagnoseRequest::Autodiscover(t) => !t.password.is_empty(),
            DiagnoseRequest::OutlookAnywhere(t) => !t.password.is_empty(),
            DiagnoseRequest::RemoteMove(t) => !t.password.is_empty(),
            DiagnoseRequest::Host(_) | DiagnoseRequest::Outside(_) => false,
        }
    }

    /// A copy without the password, for reports and logs.
    pub fn redacted(&self) -> Self {
        match self {
            DiagnoseRequest::Autodiscover(t) => DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                password: Password::default(),
                ..t.clone()
            }),
            DiagnoseRequest::OutlookAnywhere(t) => DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
                password: Password::default(),
                ..t.clone()
            }),
            DiagnoseRequest::RemoteMove(t) => DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                password: Password::default(),
                ..t.clone()
            }),
            DiagnoseRequest::Host(t) => DiagnoseRequest::Host(t.clone()),
            DiagnoseRequest::Outside(t) => DiagnoseRequest::Outside(t.clone()),
        }
    }
}

impl HostTarget {
    /// The host normalised and the port decided.
    fn validate(&self) -> Result<HostPort, InputError> {
        let target = input::parse_host(Field::Host, &self.host)?;
        let port = match self.port {
            Some(0) => return Err(InputError::new(Field::Port, "must be between 1 and 65535")),
            Some(p) => p,
            None => target.port.unwrap_or(443),
        };
        Ok(HostPort {
            host: target.host,
            port: Some(port),
        })
    }
}

impl DiagnoseRequest {
    /// Checks every field the way the relay will, so the page can show the same message as the user types.
    pub fn validate(&self) -> Result<ValidRequest, InputError> {
        match self {
            DiagnoseRequest::Host(t) => Ok(ValidRequest::Host(t.validate()?)),
            DiagnoseRequest::Outside(t) => Ok(ValidRequest::Outside(t.validate()?)),
            DiagnoseRequest::Autodiscover(t) => {
                let email = input::parse_email(Field::Email, &t.email)?;
                let user = match t.user.trim() {
                    "" => email.address.clone(),
                    u => input::parse_user(Field::User, u)?,
                };
                require_password(&t.password)?;
                let target_mailbox = target_mailbox(&t.target_mailbox)?;
                Ok(ValidRequest::Autodiscover(ValidAutodiscover {
                    email,
                    user,
                    password: t.password.clone(),
                    allow_credential_redirect: t.allow_credential_redirect,
                    target_mailbox,
                }))
            }
            DiagnoseRequest::OutlookAnywhere(t) => {
                let proxy = input::parse_host(Field::RpcProxy, &t.rpc_proxy)?;
                let exchange_server = input::parse_rpc_server(Field::ExchangeServer, &t.exchange_server)?;
                let user = required_user(&t.user)?;
                require_password(&t.password)?;
                Ok(ValidRequest::OutlookAnywhere(ValidOutlookAnywhere {
                    rpc_proxy: HostPort {
                        host: proxy.host,
                        port: Some(proxy.port.unwrap_or(443)),
                    },
                    exchange_server,
                    auth: t.auth,
                    user,
                    password: t.password.clone(),
                    target_mailbox: target_mailbox(&t.target_mailbox)?,
                }))
            }
            DiagnoseRequest::RemoteMove(t) => {
                let server = input::parse_host(Field::RemoteServer, &t.remote_server)?;
                let user = required_user(&t.user)?;
                require_password(&t.password)?;
                let agent = hybrid_agent(&server.host, &t.agent_target)?;
                let servers = parse_servers(&t.servers)?;
                if agent.is_some() && !servers.is_empty() {
                    // Only Exchange Online reaches the servers behind an agent's name.
                    return Err(InputError::new(
                        Field::Servers,
                        "not with a Hybrid Agent name as the remote server: check the server it publishes (agent_target)",
                    ));
                }
                Ok(ValidRequest::RemoteMove(ValidRemoteMove {
                    remote_server: HostPort {
                        host: server.host,
                        port: Some(server.port.unwrap_or(443)),
                    },
                    user,
                    password: t.password.clone(),
                    target_mailbox: target_mailbox(&t.target_mailbox)?,
                    servers,
                    agent,
                }))
            }
        }
    }
}

/// The Hybrid Agent behind `host`, when it is an agent's name, with the internal server it publishes
/// (`target`, optional); a target beside any other name is an error naming the field.
fn hybrid_agent(host: &str, target: &str) -> Result<Option<HybridAgent>, InputError> {
    let target = match target.trim() {
        "" => None,
        t => Some(input::parse_host(Field::AgentTarget, t)?),
    };
    match (input::hybrid_agent_app_id(host), target) {
        (Some(app_id), target) => Ok(Some(HybridAgent {
            app_id: app_id.to_string(),
            target,
        })),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(InputError::new(
            Field::AgentTarget,
            "only with a Hybrid Agent name as the remote server",
        )),
    }
}

fn required_user(user: &str) -> Result<String, InputError> {
    match user.trim() {
        "" => Err(InputError::new(
            Field::User,
            "enter the migration account, as user@domain or DOMAIN\\user",
        )),
        u => input::parse_user(Field::User, u),
    }
}

fn target_mailbox(raw: &str) -> Result<Option<input::Email>, InputError> {
    match raw.trim() {
        "" => Ok(None),
        m => input::parse_email(Field::TargetMailbox, m).map(Some),
    }
}

/// The most servers one diagnosis checks behind a name: each is a logon, and a list longer than a
/// farm's front ends is more likely a paste gone wrong.
pub const MAX_SERVERS: usize = 16;

/// The `servers` list: each a server name or an address (its port is the remote server's), each once.
pub fn parse_servers(raw: &str) -> Result<Vec<String>, InputError> {
    let mut list: Vec<String> = Vec::new();
    for item in raw.split(',').filter(|i| !i.trim().is_empty()) {
        let server = input::parse_host(Field::Servers, item)?;
        if server.port.is_some() {
            return Err(InputError::new(
                Field::Servers,
                "give each server without a port: it is reached on the remote server's port",
            ));
        }
        if !list.contains(&server.host) {
            list.push(server.host);
        }
    }
    if list.len() > MAX_SERVERS {
        return Err(InputError::new(Field::Servers, "list at most 16 servers"));
    }
    Ok(list)
}

fn require_password(password: &Password) -> Result<(), InputError> {
    if password.is_empty() {
        return Err(InputError::new(
            Field::Password,
            "enter the password of the migration account",
        ));
    }
    Ok(())
}

/// A request whose fields passed [`DiagnoseRequest::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidRequest {
    /// Host mode with the host normalised and the port decided.
    Host(HostPort),
    Autodiscover(ValidAutodiscover),
    OutlookAnywhere(ValidOutlookAnywhere),
    RemoteMove(ValidRemoteMove),
    /// The view from outside of one host.
    Outside(HostPort),
}

/// Remote-move mode, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidRemoteMove {
    /// The MRS Proxy host and its port.
    pub remote_server: HostPort,
    pub user: String,
    pub password: Password,
    pub target_mailbox: Option<input::Email>,
    /// The servers behind `remote_server` to check one by one (empty: only the name), at most
    /// [`MAX_SERVERS`].
    pub servers: Vec<String>,
    /// The remote server is a Hybrid Agent's name (Modern Hybrid).
    pub agent: Option<HybridAgent>,
}

/// A Hybrid Agent (Modern Hybrid): its application id, and the internal server it publishes when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HybridAgent {
    pub app_id: String,
    pub target: Option<HostPort>,
}

/// Outlook Anywhere mode, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidOutlookAnywhere {
    /// The proxy host and its port (443 unless a pasted URL said otherwise).
    pub rpc_proxy: HostPort,
    /// Lower-case; a host name or `<guid>@<domain>`.
    pub exchange_server: String,
    pub auth: AuthMethod,
    pub user: String,
    pub password: Password,
    pub target_mailbox: Option<input::Email>,
}

/// Autodiscover mode, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidAutodiscover {
    pub email: input::Email,
    /// As typed (user@domain or DOMAIN\user), or the e-mail address.
    pub user: String,
    pub password: Password,
    pub allow_credential_redirect: bool,
    /// The mailbox whose Inbox the account must open; None: the address Autodiscover ends at (the
    /// e-mail address, or where a redirectAddr led).
    pub target_mailbox: Option<input::Email>,
}

/// What the relay says about itself on `GET /api/v1/info`, so the page can show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RelayInfo {
    /// The relay's version (the crate version).
    pub version: String,
    /// The egress policy in words: which addresses this relay may reach.
    pub egress: String,
    /// The relay reaches addresses inside a network (egress `any` or a list of networks): the page offers
    /// the fields that name servers there (the servers behind a name, a Hybrid Agent's published server).
    #[serde(default)]
    pub inside: bool,
    /// Ready-made diagnoses of a demo lab (`migcheck serve --demo FILE`), for someone without an Exchange
    /// server: the page offers them pre-filled. Empty on a normal relay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demos: Vec<Demo>,
    /// The modes this relay runs ([`DiagnoseRequest::MODES`]). A relay older than the field sends none:
    /// it has no `outside` mode, and a relay comparing with it says so.
    #[serde(default)]
    pub modes: Vec<String>,
    /// The relay this one compares with (`migcheck serve --compare-with URL`): the page offers "Compare
    /// with the internet's view". None: no comparison offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_with: Option<String>,
}

/// One ready-made diagnosis of the demo lab. Its password is a lab account's, public by design.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Demo {
    /// A short name: "Autodiscover, Exchange 2016".
    pub title: String,
    /// What a user will see go wrong, in a sentence.
    pub description: String,
    pub request: DiagnoseRequest,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outlook_anywhere(json: &str) -> Result<ValidRequest, InputError> {
        serde_json::from_str::<DiagnoseRequest>(json).expect("json").validate()
    }

    #[test]
    fn the_manual_mode_reads_like_test_migration_server_availability() {
        let valid = outlook_anywhere(
            r#"{"mode":"outlook_anywhere","rpc_proxy":"https://Mail.Contoso.com/rpc/","exchange_server":"EX01.contoso.com","auth":"ntlm","user":"CONTOSO\\migadmin","password":"s3cret"}"#,
        )
        .expect("valid");
        let ValidRequest::OutlookAnywhere(oa) = valid else {
            panic!("not the outlook_anywhere mode")
        };
        assert_eq!(oa.rpc_proxy.host, "mail.contoso.com");
        assert_eq!(oa.rpc_proxy.port, Some(443));
        assert_eq!(oa.exchange_server, "ex01.contoso.com");
        assert_eq!(oa.auth, AuthMethod::Ntlm);
        assert_eq!(oa.user, "CONTOSO\\migadmin");
    }

    #[test]
    fn each_missing_field_is_named() {
        for (json, field) in [
            (
                r#"{"mode":"outlook_anywhere","rpc_proxy":"","exchange_server":"ex01","user":"u@c.com","password":"p"}"#,
                Field::RpcProxy,
            ),
            (
                r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.c.com","exchange_server":"","user":"u@c.com","password":"p"}"#,
                Field::ExchangeServer,
            ),
            (
                r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.c.com","exchange_server":"ex01","user":" ","password":"p"}"#,
                Field::User,
            ),
            (
                r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.c.com","exchange_server":"ex01","user":"u@c.com"}"#,
                Field::Password,
            ),
        ] {
            assert_eq!(outlook_anywhere(json).expect_err(json).field, field, "{json}");
        }
    }

    #[test]
    fn the_remote_move_mode_reads_like_its_parameter_set() {
        let valid = outlook_anywhere(
            r#"{"mode":"remote_move","remote_server":"mail.contoso.com","user":"CONTOSO\\migadmin","password":"p","target_mailbox":"Adele@Contoso.com"}"#,
        )
        .expect("valid");
        let ValidRequest::RemoteMove(rm) = valid else {
            panic!("not the remote_move mode")
        };
        assert_eq!(rm.remote_server.host, "mail.contoso.com");
        assert_eq!(
            rm.target_mailbox.map(|m| m.address),
            Some("Adele@contoso.com".to_string())
        );
        let e = outlook_anywhere(r#"{"mode":"remote_move","remote_server":"mail.contoso.com","user":"u@c.com","password":"p","target_mailbox":"not an address"}"#)
            .expect_err("bad mailbox");
        assert_eq!(e.field, Field::TargetMailbox);
        let e = outlook_anywhere(r#"{"mode":"remote_move","remote_server":"","user":"u@c.com","password":"p"}"#)
            .expect_err("no server");
        assert_eq!(e.field, Field::RemoteServer);
    }

    /// Issue 19, point 4: a Hybrid Agent name is recognised, with the internal server it publishes.
    #[test]
    fn a_hybrid_agent_name_carries_the_server_it_publishes() {
        let agent = |server: &str, target: &str| {
            outlook_anywhere(&format!(
                r#"{{"mode":"remote_move","remote_server":"{server}","user":"CONTOSO\\migadmin","password":"p","agent_target":"{target}"}}"#
            ))
        };
        let name = "087F1C2E-8711-4176-AB4F-4B1C1777A350.resource.mailboxmigration.his.msappproxy.net";
        let Ok(ValidRequest::RemoteMove(rm)) = agent(name, "EX01.contoso.local") else {
            panic!("not valid")
        };
        let hybrid = rm.agent.expect("the agent");
        assert_eq!(hybrid.app_id, "087f1c2e-8711-4176-ab4f-4b1c1777a350");
        assert_eq!(hybrid.target.map(|t| t.host), Some("ex01.contoso.local".to_string()));
        let Ok(ValidRequest::RemoteMove(rm)) = agent(name, "") else {
            panic!("not valid")
        };
        assert_eq!(rm.agent.map(|a| a.target), Some(None));
        let e = agent("mail.contoso.com", "ex01.contoso.local").expect_err("a target without an agent");
        assert_eq!(e.field, Field::AgentTarget);
        assert!(e.message.contains("Hybrid Agent name"), "{}", e.message);
        let e = agent(name, "ex01 contoso").expect_err("a bad target");
        assert_eq!(e.field, Field::AgentTarget);
        let e = outlook_anywhere(&format!(
            r#"{{"mode":"remote_move","remote_server":"{name}","user":"u@c.com","password":"p","servers":"ex01,ex02"}}"#
        ))
        .expect_err("servers behind an agent's name");
        assert_eq!(e.field, Field::Servers);
        assert!(e.message.contains("agent_target"), "{}", e.message);
    }

    #[test]
    fn the_servers_behind_the_name_are_a_bounded_list_of_names_or_addresses() {
        let valid = outlook_anywhere(
            r#"{"mode":"remote_move","remote_server":"mail.contoso.com","user":"u@c.com","password":"p","servers":"EX01.contoso.com, 10.0.0.12,ex01.contoso.com,,ex03 "}"#,
        )
        .expect("valid");
        let ValidRequest::RemoteMove(rm) = valid else {
            panic!("not the remote_move mode")
        };
        assert_eq!(rm.servers, ["ex01.contoso.com", "10.0.0.12", "ex03"]);
        let many = (1..=17).map(|n| format!("ex{n:02}")).collect::<Vec<_>>().join(",");
        for (servers, words) in [
            (many.as_str(), "list at most 16 servers"),
            ("ex01:444", "give each server without a port"),
            ("ex01,bad_name!", "'_' is not allowed in a server name"),
            ("ex01 ex02", "a server name cannot contain spaces"),
        ] {
            let json = format!(
                r#"{{"mode":"remote_move","remote_server":"mail.contoso.com","user":"u@c.com","password":"p","servers":"{servers}"}}"#
            );
            let e = outlook_anywhere(&json).expect_err(servers);
            assert_eq!(e.field, Field::Servers, "{servers}");
            assert!(e.message.contains(words), "{servers}: {}", e.message);
        }
    }

    #[test]
    fn the_target_mailbox_is_optional_in_autodiscover_mode() {
        let valid =
            outlook_anywhere(r#"{"mode":"autodiscover","email":"adele@contoso.com","password":"p"}"#).expect("valid");
        let ValidRequest::Autodiscover(ad) = valid else {
            panic!("not the autodiscover mode")
        };
        assert_eq!(ad.target_mailbox, None, "then the address Autodiscover ends at is used");
    }

    #[test]
    fn the_redacted_copy_has_no_password() {
        let request: DiagnoseRequest = serde_json::from_str(
            r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.c.com","exchange_server":"ex01","user":"u@c.com","password":"Hunter2-secret"}"#,
        )
        .expect("json");
        let json = serde_json::to_string(&request.redacted()).expect("json");
        assert!(!json.contains("Hunter2"), "{json}");
        assert!(json.contains(r#""auth":"basic""#), "{json}");
    }

    /// Issue 23: what goes to a relay outside is the public name alone, whatever the mode carried.
    #[test]
    fn the_outside_view_carries_the_public_name_and_nothing_else() {
        let view = |json: &str| {
            let request: DiagnoseRequest = serde_json::from_str(json).expect("json");
            serde_json::to_value(request.outside_view()).expect("json")
        };
        let host = |h: &str| serde_json::json!({"mode": "outside", "host": h});
        assert_eq!(
            view(
                r#"{"mode":"autodiscover","email":"adele@Contoso.com","user":"CONTOSO\\migadmin","password":"s3cret","target_mailbox":"bob@contoso.com"}"#
            ),
            host("autodiscover.Contoso.com")
        );
        assert_eq!(
            view(
                r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.contoso.com","exchange_server":"ex01.corp.local","user":"u","password":"s3cret"}"#
            ),
            host("mail.contoso.com")
        );
        assert_eq!(
            view(
                r#"{"mode":"remote_move","remote_server":"mail.contoso.com","user":"u","password":"s3cret","servers":"ex01,ex02","agent_target":""}"#
            ),
            host("mail.contoso.com")
        );
        assert_eq!(
            view(r#"{"mode":"host","host":"mail.contoso.com","port":8443}"#),
            serde_json::json!({"mode": "outside", "host": "mail.contoso.com", "port": 8443})
        );
        // It takes no account and no password: a field of another mode is refused by name.
        let refused = serde_json::from_str::<DiagnoseRequest>(r#"{"mode":"outside","host":"h","password":"x"}"#)
            .expect_err("no password in the outside view");
        assert!(
            refused
                .to_string()
                .starts_with("unknown field `password`, expected `host` or `port`"),
            "{refused}"
        );
        let valid =
            serde_json::from_str::<DiagnoseRequest>(r#"{"mode":"outside","host":"https://Mail.Contoso.com/owa"}"#)
                .expect("json")
                .validate();
        assert_eq!(
            valid,
            Ok(ValidRequest::Outside(HostPort {
                host: "mail.contoso.com".into(),
                port: Some(443)
            }))
        );
    }
}
