//! After Autodiscover has answered: every endpoint its settings name, checked at the same time (they
//! do not depend on each other, so a slow or dead one costs its own time only): Autodiscover V2, the
//! Outlook Anywhere host's certificate (KB step 2) and its RPC over HTTP, MAPI over HTTP, EWS and the
//! version. The report keeps them in this order whatever finishes first.

use futures_util::future::OptionFuture;
use url::Url;

use migcheck_shared::request::{AuthMethod, ValidAutodiscover};
use migcheck_shared::{Check, HostPort, KbStep};

use super::logon::AcceptedAt;
use super::{Outcome, Recorder, autodiscover, ews, host, mapi, outlook, soap};
use crate::net::Net;
use crate::probe::Credentials;
use crate::probe::autodiscover::client::{Consent, MapiAsk};
use crate::probe::autodiscover::pox::{MapiHttp, Settings};
use crate::probe::rpch;

/// What the Autodiscover sequence ended with.
pub(super) struct Answered<'a> {
    /// The answer to the request as the migration service makes it: what the verdict is about.
    pub settings: &'a Settings,
    /// The same request with `X-MapiHttpCapability`: where MAPI over HTTP is.
    pub mapi: &'a MapiAsk,
    /// Where the settings came from.
    pub url: &'a str,
    /// The address they are for (after any redirectAddr).
    pub address: &'a str,
    /// Hosts whose POX request ran into its deadline: not asked again.
    pub silent: &'a [String],
    /// Autodiscover accepted the credentials (not when it answered without asking).
    pub accepted: Option<&'a AcceptedAt>,
}

/// The endpoint checks of what Autodiscover answered, and the headline when all pass.
pub(super) async fn checks(
    net: &Net,
    rec: &Recorder,
    target: &ValidAutodiscover,
    answered: Answered<'_>,
    consent: &Consent,
    creds: &Credentials<'_>,
) -> (Vec<Check>, String) {
    let Answered {
        settings,
        mapi,
        url,
        address,
        silent,
        accepted,
    } = answered;
    let v2_hosts = v2_hosts(url, address);
    let v2 = autodiscover::v2_check(net, rec, &v2_hosts, silent, address);
    let pox_ews = autodiscover::ews_url(settings).map(|(u, _)| u);
    let soap_target = crate::probe::auth::https_target(url).ok();
    let soap = async {
        let (host, port, _) = soap_target.as_ref()?;
        let ask = soap::SoapAsk {
            host,
            port: *port,
            mailbox: address,
            pox_ews: pox_ews.as_deref(),
            version: settings.exch.as_ref().and_then(|e| e.server_version),
            accepted,
            purpose: soap::Purpose::Autodiscover,
        };
        Some(soap::check(net, rec, &ask, creds).await)
    };
    // V2 and SOAP Autodiscover ask the host that answered POX, beside each other.
    let v2 = async { tokio::join!(v2, soap) };
    // The name comes from the server: it is checked like anything a user types (settings_check says so
    // when it is not a host name).
    let Some(oa) = settings
        .expr
        .as_ref()
        .and_then(|e| e.server.as_deref())
        .and_then(|s| migcheck_shared::input::parse_host("EXPR Server", s).ok())
    else {
        let (v2, soap) = v2.await;
        return (std::iter::once(v2).chain(soap).collect(), String::new());
    };
    let oa = HostPort {
        host: oa.host,
        port: Some(oa.port.unwrap_or(443)),
    };
    let expr = settings.expr.as_ref();
    let allowed = |host: &str| {
        if consent.allows(host) {
            Ok(())
        } else {
            Err(format!(
                "Not tried: the password would go to {host}, outside {}; allow it with the credential-redirect option.",
                consent.domain
            ))
        }
    };
    // The auth package Autodiscover advertises is what Outlook (and the migration) will use.
    let auth = match expr.and_then(|e| e.auth_package.as_deref()) {
        Some(p) if p.eq_ignore_ascii_case("ntlm") || p.eq_ignore_ascii_case("negotiate") => AuthMethod::Ntlm,
        _ => AuthMethod::Basic,
    };
    let oa_inputs = settings
        .exch
        .as_ref()
        .and_then(|e| e.server.as_deref())
        .map(|server| outlook::OutlookAnywhere {
            proxy: &oa,
            server,
            logon: rpch::client::Logon { auth, creds: *creds },
            may_send_password: allowed(&oa.host),
            cert_principal: outlook::CertPrincipal::from_expr(expr.and_then(|e| e.cert_principal_name.as_deref())),
            accepted,
        });
    let outlook_anywhere: OptionFuture<_> = oa_inputs
        .as_ref()
        .map(|i| async { outlook::checks_for(net, rec, i).await.0 })
        .into();

    let mapi_urls = mapi_urls(settings, mapi);
    let mapi_may = mapi_urls
        .iter()
        .filter_map(|(_, _, u)| host_of(u))
        .map(|h| allowed(&h))
        .find(Result::is_err)
        .unwrap_or(Ok(()));
    let mapi: OptionFuture<_> = (!mapi_urls.is_empty())
        .then(|| mapi::checks(net, rec, &mapi_urls, creds, &mapi_may, accepted))
        .into();

    let ews_url = autodiscover::ews_url(settings).map(|(url, _)| url);
    // Unless the user named one, the mailbox is the address Autodiscover ended at.
    let mailbox = Some(target.target_mailbox.as_ref().map_or(address, |m| m.address.as_str()));
    let version = settings.exch.as_ref().and_then(|e| e.server_version);
    let no_ews_url = ews_url.is_none();
    let ews = async {
        let Some(ews_url) = ews_url else {
            return no_ews_checks(rec, version);
        };
        match host_of(&ews_url).as_deref().map(allowed) {
            Some(Ok(())) => ews::with_version(net, rec, &ews_url, creds, mailbox, version, accepted).await,
            Some(Err(why)) => {
                let run = rec.start(KbStep::Permissions, "ews", format!("EWS at {ews_url}"), None);
                vec![rec.finish(run, Outcome::skip(why), vec![])]
            }
            None => Vec::new(),
        }
    };

    let (v2, certificate, outlook_anywhere, mapi, ews) =
        tokio::join!(v2, host::host_checks(net, rec, &oa), outlook_anywhere, mapi, ews);
    let (v2, soap) = v2;
    let mut checks = vec![v2];
    checks.extend(soap);
    checks.extend(certificate);
    checks.extend(outlook_anywhere);
    checks.extend(mapi);
    checks.extend(ews);
    let mut headline = format!(
        "Autodiscover for {} works ({url}); Outlook Anywhere at {} takes the logon and reaches the mailbox endpoints, and its certificate is fine.",
        target.email.address, oa.host
    );
    if no_ews_url {
        headline.push_str(" Autodiscover names no EWS URL, so the mailbox permission was not checked.");
    }
    (checks, headline)
}

/// The MAPI over HTTP endpoints to probe: from the answer to the request with X-MapiHttpCapability
/// (else from the first answer, should a server have sent the block unasked); the ExternalUrl, else the
/// InternalUrl ([MS-OXDSCLI] 4.4 shows a block with InternalUrl only).
fn mapi_urls(settings: &Settings, mapi: &MapiAsk) -> Vec<(&'static str, &'static str, String)> {
    let block: Option<&MapiHttp> = match mapi {
        MapiAsk::Answered(second) => second.mapi_http.as_ref(),
        MapiAsk::Failed(_) | MapiAsk::NotAsked(_) => None,
    }
    .or(settings.mapi_http.as_ref());
    block
        .into_iter()
        .flat_map(|m| {
            [
                (
                    "emsmdb",
                    "mail store",
                    m.mail_store_external.clone().or_else(|| m.mail_store_internal.clone()),
                ),
                (
                    "nspi",
                    "address book",
                    m.address_book_external
                        .clone()
                        .or_else(|| m.address_book_internal.clone()),
                ),
            ]
        })
        .filter_map(|(id, name, url)| url.map(|u| (id, name, u)))
        .collect()
}

/// What stands in for EWS's checks when the settings name no EWS URL: said, not skipped silently; the
/// version then comes from Autodiscover's ServerVersion alone.
fn no_ews_checks(rec: &Recorder, version: Option<crate::probe::version::ExchangeBuild>) -> Vec<Check> {
    let run = rec.start(KbStep::Permissions, "ews", "EWS", None);
    let ews = rec.finish(
        run,
        Outcome::skip(
            "Not checked: the Autodiscover settings name no EWS URL (neither EwsUrl nor ASUrl in EXPR or EXCH), so the mailbox permission was not checked either; the migration itself goes through Outlook Anywhere.",
        ),
        vec![],
    );
    let sources = super::version::sources(version, None, &crate::probe::owa::OwaProbe::default());
    vec![
        ews,
        super::version::check(rec, &sources, &crate::probe::owa::OwaProbe::default()),
    ]
}

/// V2 on the host that answered and on the two https candidates of the address's domain.
fn v2_hosts(url: &str, address: &str) -> Vec<String> {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let mut hosts: Vec<String> = host_of(url).into_iter().collect();
    for host in [format!("autodiscover.{domain}"), domain] {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

fn host_of(url: &str) -> Option<String> {
    Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ews_url_is_said_not_skipped_silently() {
        let rec = Recorder::quiet();
        let checks = no_ews_checks(&rec, None);
        let ews = checks.iter().find(|c| c.id == "ews").expect("an ews check");
        assert_eq!(ews.status, migcheck_shared::Status::Skip);
        assert!(
            ews.summary
                .starts_with("Not checked: the Autodiscover settings name no EWS URL"),
            "{}",
            ews.summary
        );
        assert!(checks.iter().any(|c| c.id == "version"), "{checks:?}");
    }
}
