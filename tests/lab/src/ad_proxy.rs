//! The Outlook Anywhere hosts the Autodiscover settings name (EXPR Server, `Serve::OutlookAnywhere`):
//! served by the lab's RPC proxy with each scenario's user. Healthy behaviour (Negotiate, NTLM,
//! Basic) for the Basic scenarios, NTLM only for [`AdScenario::NtlmOnly`]. The RPC servers known are
//! the EXCH Server (`<mailbox-guid>@<domain>`, Exchange 2007's mailbox server FQDN) and
//! `mail.<domain>`; MAPI on /mapi/emsmdb/ and /mapi/nspi/.

use std::path::Path;

use crate::autodiscover::{HostPlan, NTLM_DOMAIN, Plan, Serve};
use crate::certs::AdCertFiles;
use crate::exchange_server::{ExchangeServer, ExchangeWeb, HostConfig, Iis, Mode, NtlmNames, Scheme, User, Web};
use crate::tls_front::{FrontSpec, TlsFronts, backend_ip};
use crate::{AdScenario, LabError};

/// Starts the proxy for every Outlook Anywhere host of `plan` (None: there are none).
pub(crate) fn start(dir: &Path, plan: &Plan, certs: &AdCertFiles) -> Result<Option<ExchangeServer>, LabError> {
    let oa: Vec<&HostPlan> = plan
        .hosts
        .iter()
        .filter(|h| h.serve == Serve::OutlookAnywhere)
        .collect();
    if oa.is_empty() {
        return Ok(None);
    }
    let mut hosts = Vec::new();
    let mut stores: Vec<(String, NtlmNames)> = Vec::new();
    for h in oa {
        let s = h.scenario;
        let cert = certs
            .leaves
            .get(&h.slug())
            .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", h.name)))?;
        // The domain the settings are for: the host name without its first label.
        let domain = h.name.split_once('.').map_or(h.name.as_str(), |(_, d)| d).to_string();
        let store = format!("ad-{}", s.slug());
        if !stores.iter().any(|(name, _)| *name == store) {
            stores.push((store.clone(), NtlmNames::ex01(NTLM_DOMAIN, &s.domain())));
        }
        let mut users = vec![user(s, s.email())];
        let settings_address = format!("alice@{domain}");
        if settings_address != s.email() {
            users.push(user(s, settings_address));
        }
        let schemes = if s.uses_ntlm() {
            vec![Scheme::Negotiate, Scheme::Ntlm]
        } else {
            vec![Scheme::Negotiate, Scheme::Ntlm, Scheme::Basic]
        };
        hosts.push(HostConfig {
            // Behind a TLS front on the host's own address when the scenario plays Windows' TLS.
            ip: if s.windows_tls().is_some() {
                backend_ip(h.ip)
            } else {
                h.ip
            },
            name: h.name.clone(),
            label: format!("ad-{}", s.slug()),
            chain: cert.chain.clone(),
            key: cert.key.clone(),
            schemes,
            users,
            ntlm_store: store,
            rpc_servers: vec![s.exch_server(&domain), format!("mail.{domain}"), h.name.clone()],
            mode: Mode::Normal,
            // Exchange 2016 CU23 (the settings' OWA_VERSION), Exchange 2007 in its scenario; the settings
            // domain's mailboxes.
            web: Web::Exchange(ExchangeWeb {
                owa_version: s.web_build(),
                ews_version: s.web_build(),
                mrs_enabled: true,
                fe_server: "EX01",
                external_ews: true,
                mail_domain: domain.clone(),
            }),
            // Exchange 2016 never turns Extended Protection on by itself.
            iis: Iis::plain(),
        });
    }
    let log = dir.join("logs").join("rpcproxy-access.log");
    ExchangeServer::start(&dir.join("rpcproxy"), hosts, &stores, &log).map(Some)
}

/// The TLS fronts of the Outlook Anywhere hosts of Windows scenarios (None: there are none): each on
/// the host's own address, with its certificate and its scenario's Schannel list, in front of the proxy.
pub(crate) fn fronts(dir: &Path, plan: &Plan, certs: &AdCertFiles) -> Result<Option<TlsFronts>, LabError> {
    let mut fronts = Vec::new();
    for h in plan.hosts.iter().filter(|h| h.serve == Serve::OutlookAnywhere) {
        let Some(profile) = h.scenario.windows_tls() else {
            continue;
        };
        let cert = certs
            .leaves
            .get(&h.slug())
            .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", h.name)))?;
        fronts.push(FrontSpec::before(&h.slug(), h.ip, h.name.clone(), cert, profile));
    }
    if fronts.is_empty() {
        return Ok(None);
    }
    TlsFronts::start(&dir.join("tls-front"), fronts).map(Some)
}

/// The scenario's user (`CONTOSO\alice` for NTLM) under the UPN `upn`.
fn user(s: AdScenario, upn: String) -> User {
    User {
        upn,
        domain: NTLM_DOMAIN.to_string(),
        name: "alice".to_string(),
        password: s.server_password(),
    }
}
