//! The command lines that reproduce a diagnosis elsewhere: Exchange Online's own
//! `Test-MigrationServerAvailability`, and `migcheck check`. Never with the password.

use crate::field::Field;
use crate::request::{AuthMethod, DiagnoseRequest};

/// Quotes a value for PowerShell when it needs it (single quotes, doubled inside).
fn ps(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "@.-_".contains(c)) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// Quotes a value for a POSIX shell when it needs it.
fn sh(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "@.-_:/".contains(c)) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

impl DiagnoseRequest {
    /// The `Test-MigrationServerAvailability` line to run in Exchange Online PowerShell (the host mode
    /// has none: it checks a certificate only).
    pub fn powershell_line(&self) -> Option<String> {
        let cred = |user: &str| format!("-Credentials (Get-Credential {})", ps(user));
        match self {
            DiagnoseRequest::Host(_) | DiagnoseRequest::Outside(_) => None,
            DiagnoseRequest::Autodiscover(t) => {
                let user = if t.user.trim().is_empty() {
                    t.email.trim()
                } else {
                    t.user.trim()
                };
                Some(format!(
                    "Test-MigrationServerAvailability -Autodiscover -EmailAddress {} {}",
                    ps(t.email.trim()),
                    cred(user)
                ))
            }
            DiagnoseRequest::OutlookAnywhere(t) => Some(format!(
                "Test-MigrationServerAvailability -ExchangeOutlookAnywhere -ExchangeServer {} -RPCProxyServer {} -Authentication {} {} -EmailAddress {} -MailboxPermission FullAccess",
                ps(t.exchange_server.trim()),
                ps(t.rpc_proxy.trim()),
                t.auth.label(),
                cred(t.user.trim()),
                match t.target_mailbox.trim() {
                    // The cmdlet needs a mailbox to open in this parameter set.
                    "" => "<a mailbox to migrate>".to_string(),
                    m => ps(m),
                }
            )),
            DiagnoseRequest::RemoteMove(t) => Some(format!(
                "Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer {} {}",
                ps(t.remote_server.trim()),
                cred(t.user.trim())
            )),
        }
    }

    /// The `migcheck check` line that reproduces this run (the password through an environment variable).
    pub fn migcheck_line(&self) -> String {
        let mut args: Vec<String> = vec!["migcheck".into(), "check".into()];
        let mut flag = |field: Field, value: &str| {
            if let Some(flag) = field.flag()
                && !value.trim().is_empty()
            {
                args.push(flag.into());
                args.push(sh(value.trim()));
            }
        };
        let password = match self {
            DiagnoseRequest::Host(t) | DiagnoseRequest::Outside(t) => {
                flag(Field::Host, &t.host);
                if let Some(p) = t.port {
                    flag(Field::Port, &p.to_string());
                }
                false
            }
            DiagnoseRequest::Autodiscover(t) => {
                flag(Field::Email, &t.email);
                flag(Field::User, &t.user);
                flag(Field::TargetMailbox, &t.target_mailbox);
                true
            }
            DiagnoseRequest::OutlookAnywhere(t) => {
                flag(Field::RpcProxy, &t.rpc_proxy);
                flag(Field::ExchangeServer, &t.exchange_server);
                flag(
                    Field::Auth,
                    match t.auth {
                        AuthMethod::Basic => "basic",
                        AuthMethod::Ntlm => "ntlm",
                    },
                );
                flag(Field::User, &t.user);
                flag(Field::TargetMailbox, &t.target_mailbox);
                true
            }
            DiagnoseRequest::RemoteMove(t) => {
                flag(Field::RemoteServer, &t.remote_server);
                flag(Field::User, &t.user);
                flag(Field::TargetMailbox, &t.target_mailbox);
                flag(Field::Servers, &t.servers);
                flag(Field::AgentTarget, &t.agent_target);
                true
            }
        };
        if let DiagnoseRequest::Autodiscover(t) = self
            && t.allow_credential_redirect
        {
            args.extend(Field::AllowCredentialRedirect.flag().map(String::from));
        }
        if let DiagnoseRequest::Outside(_) = self {
            args.push("--outside-view".into());
        }
        if password {
            args.extend(Field::Password.flag().map(String::from));
            args.push("MIGCHECK_PASSWORD".into());
            return format!("MIGCHECK_PASSWORD='...' {}", args.join(" "));
        }
        args.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> DiagnoseRequest {
        serde_json::from_str(json).expect("json")
    }

    #[test]
    fn each_mode_has_its_lines_without_the_password() {
        let ad = request(
            r#"{"mode":"autodiscover","email":"adele@contoso.com","user":"CONTOSO\\migadmin","password":"Secret-1"}"#,
        );
        assert_eq!(
            ad.powershell_line().as_deref(),
            Some(
                r"Test-MigrationServerAvailability -Autodiscover -EmailAddress adele@contoso.com -Credentials (Get-Credential 'CONTOSO\migadmin')"
            )
        );
        assert_eq!(
            ad.migcheck_line(),
            r"MIGCHECK_PASSWORD='...' migcheck check --email adele@contoso.com --user 'CONTOSO\migadmin' --password-env MIGCHECK_PASSWORD"
        );
        let oa = request(
            r#"{"mode":"outlook_anywhere","rpc_proxy":"mail.contoso.com","exchange_server":"ex01.contoso.com","auth":"ntlm","user":"m@contoso.com","password":"Secret-1"}"#,
        );
        assert_eq!(
            oa.powershell_line().as_deref(),
            Some(
                "Test-MigrationServerAvailability -ExchangeOutlookAnywhere -ExchangeServer ex01.contoso.com -RPCProxyServer mail.contoso.com -Authentication NTLM -Credentials (Get-Credential m@contoso.com) -EmailAddress <a mailbox to migrate> -MailboxPermission FullAccess"
            )
        );
        assert!(oa.migcheck_line().contains(
            "--rpc-proxy mail.contoso.com --exchange-server ex01.contoso.com --auth ntlm --user m@contoso.com"
        ));
        let rm = request(
            r#"{"mode":"remote_move","remote_server":"mail.contoso.com","user":"o'brien@contoso.com","password":"Secret-1"}"#,
        );
        assert_eq!(
            rm.powershell_line().as_deref(),
            Some(
                "Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer mail.contoso.com -Credentials (Get-Credential 'o''brien@contoso.com')"
            )
        );
        assert!(
            rm.migcheck_line().contains(r"--user 'o'\''brien@contoso.com'"),
            "{}",
            rm.migcheck_line()
        );
        let host = request(r#"{"mode":"host","host":"mail.contoso.com","port":444}"#);
        assert_eq!(host.powershell_line(), None);
        assert_eq!(
            host.migcheck_line(),
            "migcheck check --host mail.contoso.com --port 444"
        );
        for r in [ad, oa, rm] {
            assert!(
                !r.migcheck_line().contains("Secret-1")
                    && !r.powershell_line().unwrap_or_default().contains("Secret-1")
            );
        }
    }
}
