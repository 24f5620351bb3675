//! The fixes, as PowerShell a user can paste into the Exchange Management Shell. Prose is in `#`
//! comments so the whole text stays runnable. `HOST` and `DOMAIN` are filled in by [`fill`].

/// Request, install and bind a new certificate from a public CA.
pub const RENEW: &str = r#"# In the Exchange Management Shell: request a new certificate for HOST
New-ExchangeCertificate -GenerateRequest -KeySize 2048 -SubjectName "CN=HOST" -DomainName HOST,autodiscover.DOMAIN -RequestFile C:\HOST.req
# Have a public certification authority issue it, then install it and bind it to IIS
Import-ExchangeCertificate -FileData ([System.IO.File]::ReadAllBytes('C:\HOST.cer')) | Enable-ExchangeCertificate -Services IIS"#;

pub const SELF_SIGNED: &str = "# Exchange Online trusts only certificates from a public certification authority";
pub const PRIVATE_CA: &str =
    "# The issuing CA is not publicly trusted: get the certificate from a public certification authority";
pub const WEAK_KEY: &str = "# Replace the certificate with one whose key has at least 2048 bits";
pub const SHA1: &str = "# Have the CA issue the certificate with a SHA-256 signature (public CAs do by default)";
pub const NAME: &str = "# Get a certificate whose Subject Alternative Names include HOST";
pub const NAME_OR_HOSTNAME: &str = r#"# Or publish Outlook Anywhere under a name the certificate lists
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname <name on the certificate> -ExternalClientsRequireSsl $true"#;

/// The server sends its certificate without the intermediate.
pub const INTERMEDIATE: &str = r#"# On every Exchange server behind HOST (and on any load balancer or reverse proxy that terminates TLS):
# install the CA's intermediate certificate(s), then restart IIS
Import-Certificate -FilePath C:\intermediate.cer -CertStoreLocation Cert:\LocalMachine\CA
iisreset"#;

pub const NOT_YET_VALID: &str = r#"# Check the server's clock and the certificate's start date; until it starts, bind the previous certificate again
Get-ExchangeCertificate | Format-List Thumbprint,Services,NotBefore,NotAfter,Subject
Enable-ExchangeCertificate -Thumbprint <previous thumbprint> -Services IIS"#;

pub const TLS12: &str = r#"# Enable TLS 1.2 on the Exchange server (and on any load balancer or reverse proxy in front of it), then restart it
$p = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server'
New-Item $p -Force | Out-Null
New-ItemProperty $p -Name Enabled -Value 1 -PropertyType DWord -Force | Out-Null
New-ItemProperty $p -Name DisabledByDefault -Value 0 -PropertyType DWord -Force | Out-Null
New-ItemProperty 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name SchUseStrongCrypto -Value 1 -PropertyType DWord -Force | Out-Null
Restart-Computer"#;

/// Fills `HOST` and `DOMAIN` (the host without its first label) into a fix.
pub fn fill(template: &str, host: &str) -> String {
    let domain = host.split_once('.').map(|(_, d)| d).unwrap_or(host);
    template.replace("HOST", host).replace("DOMAIN", domain)
}

/// A comment line followed by the renewal steps.
pub fn renew_because(why: &str, host: &str) -> String {
    fill(&format!("{why}\n{RENEW}"), host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_the_host_and_its_domain() {
        let fix = renew_because(SELF_SIGNED, "mail.contoso.com");
        assert!(fix.starts_with("# Exchange Online trusts only"));
        assert!(fix.contains("-DomainName mail.contoso.com,autodiscover.contoso.com"));
        assert!(!fix.contains("HOST") && !fix.contains("DOMAIN"));
    }
}
