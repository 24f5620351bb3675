//! The demo: a few lab scenarios as ready-made diagnoses, so someone without an Exchange server sees
//! real findings (`cargo xtask run --demo`). Written as the relay reads them (`migcheck serve --demo`):
//! a JSON list of `{title, description, request}`, plus the relay flags that point it at the lab.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::{AdScenario, EX_ZONE, ExScenario, Fixture, Lab, LabError, LabMailbox, OA_ZONE, OaScenario};

/// The demos: each a broken part of the lab, through a different mode of migcheck.
pub fn demos(lab: &Lab) -> serde_json::Value {
    let ad = AdScenario::Healthy;
    let oa = OaScenario::Healthy;
    let mrs = ExScenario::MrsDisabled;
    let dhe = ExScenario::DheOnly;
    json!([
        {
            "title": "Autodiscover for a mailbox on Exchange 2016",
            "description": "Autodiscover, Outlook Anywhere and the mailbox work; the server is past its end of support.",
            "request": {"mode": "autodiscover", "email": ad.email(), "user": ad.user(), "password": ad.password()},
        },
        {
            "title": "Outlook Anywhere with the wrong Exchange server name",
            "description": "The RPC proxy takes the logon but answers 503 RPC Error: 6ba for the server typed in.",
            "request": {
                "mode": "outlook_anywhere", "rpc_proxy": oa.proxy_host(), "exchange_server": format!("ex02.{OA_ZONE}"),
                "auth": "basic", "user": oa.user(), "password": oa.password(),
            },
        },
        {
            "title": "Remote move with MRS Proxy off and no Full Access",
            "description": "MRSProxyEnabled is false, and the migration account may not open the mailbox.",
            "request": {
                "mode": "remote_move", "remote_server": mrs.host(), "user": mrs.user(), "password": mrs.password(),
                "target_mailbox": LabMailbox::AccessDenied.address(EX_ZONE),
            },
        },
        {
            "title": "Exchange 2016 on Windows Server 2012 R2 with only DHE suites",
            "description": "Its cipher suites were cut to DHE_RSA with AES-GCM: migcheck connects (through OpenSSL), Exchange Online may find no suite in common.",
            "request": {
                "mode": "remote_move", "remote_server": dhe.host(), "user": dhe.user(), "password": dhe.password(),
                "target_mailbox": LabMailbox::FullAccess.address(EX_ZONE),
            },
        },
        {
            "title": "A certificate that expired",
            "description": "The Outlook Anywhere host presents a certificate that expired 30 days ago.",
            "request": {"mode": "host", "host": Fixture::Expired.host_name(), "port": lab.port()},
        },
    ])
}

/// The relay flags that point it at this lab, with the relay's default step timeout (10 s).
pub fn relay_flags(lab: &Lab) -> Vec<String> {
    lab.migcheck_flags(10)
}

/// Starts every part of the lab the demos use and writes `demos.json` and `relay-flags.json` into `dir`.
pub fn write(lab: &Lab, dir: &Path) -> Result<(PathBuf, PathBuf), LabError> {
    lab.try_autodiscover()
        .map_err(|e| LabError::Setup(format!("the Autodiscover servers: {e}")))?;
    lab.try_outlook_anywhere()
        .map_err(|e| LabError::Setup(format!("the Outlook Anywhere servers: {e}")))?;
    lab.try_exchange()
        .map_err(|e| LabError::Setup(format!("the EWS servers: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|e| LabError::io("creating the demo directory", e))?;
    let demos_file = dir.join("demos.json");
    let flags_file = dir.join("relay-flags.json");
    let write = |path: &Path, value: &serde_json::Value| {
        std::fs::write(path, value.to_string()).map_err(|e| LabError::io("writing the demo files", e))
    };
    write(&flags_file, &json!(relay_flags(lab)))?;
    // Last: its presence tells a waiting caller that everything is up.
    write(&demos_file, &demos(lab))?;
    Ok((demos_file, flags_file))
}
