//! What a refused logon (a 401 after the credentials) means, wherever the account logs on: a wrong
//! password, said with how the logon was made, or Extended Protection refusing an NTLM logon bound to
//! another certificate than the one Exchange serves (a load balancer or firewall in front ends TLS);
//! and the one rule for trying once more without the channel binding.
//!
//! Why a retry is rare: every refused logon counts toward the account's lockout. So migcheck tries an
//! NTLM logon a second time, without the binding, only when all of these hold (see
//! [`may_retry_without_binding`]):
//! 1. the first try carried a channel binding and was refused (401): the binding may be what failed;
//! 2. the same credentials were accepted earlier in this diagnosis ([`AcceptedAt`]: Autodiscover, or the
//!    RPC proxy's echo), so the refusal is not a wrong password, and the retry cannot be one more wrong
//!    password toward the lockout;
//! 3. the endpoint is one where Exchange's default lets a logon without a binding in: the front end's
//!    /EWS (and /EWS/mrsproxy.svc under it), which CSS-Exchange sets to `Allow`. Where it sets `Require`
//!    (/rpc, /mapi) a logon without the binding is refused by design: the retry could show nothing, and
//!    the finding rests on the accepted credentials alone;
//! 4. once per endpoint, shown in the evidence as its own try.

use migcheck_shared::Evidence;
use migcheck_shared::kb::{BindingEvidence, BindingRefused, RefusedLogon};

use crate::probe::Credentials;
use crate::probe::auth::{Attempt, ChannelBinding};

/// Where the migration account's credentials were accepted earlier in this diagnosis, in words
/// ("Autodiscover at https://... (Basic)"): what shows that a later refusal is not the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AcceptedAt(pub String);

/// The IIS virtual directory a logon goes to, for what Extended Protection does there by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VirtualDirectory {
    /// Extended Protection `None` on both sites: never a binding check.
    Autodiscover,
    /// `Require` (CSS-Exchange's default on the front end).
    Rpc,
    /// `Require`.
    Mapi,
    /// `Allow` on the front end (EWS and MRS Proxy).
    Ews,
}

impl VirtualDirectory {
    /// Whether Exchange may check a channel binding here (any setting but `None`).
    fn checks_binding(self) -> bool {
        self != VirtualDirectory::Autodiscover
    }

    /// Whether Exchange's default lets a logon without a binding in (`Allow`).
    fn allows_unbound(self) -> bool {
        self == VirtualDirectory::Ews
    }
}

/// Where a logon went, for the finding's words.
pub(crate) struct Endpoint<'a> {
    pub url: &'a str,
    pub host: String,
    pub vdir: VirtualDirectory,
}

impl<'a> Endpoint<'a> {
    /// The endpoint at `url` (its host is the URL's).
    pub(crate) fn at(url: &'a str, vdir: VirtualDirectory) -> Self {
        let host = crate::probe::auth::https_target(url)
            .map(|(h, _, _)| h)
            .unwrap_or_default();
        Endpoint { url, host, vdir }
    }
}

/// May migcheck try the refused `first` logon once more without the channel binding? See the module's
/// rule.
pub(crate) fn may_retry_without_binding(
    first: &Attempt,
    vdir: VirtualDirectory,
    accepted: Option<&AcceptedAt>,
) -> bool {
    first.answer.status == 401
        && first.binding.as_ref().is_some_and(ChannelBinding::sent)
        && accepted.is_some()
        && vdir.allows_unbound()
}

/// A refused logon in the KB's terms: `Ok`, Extended Protection when the evidence shows it (the retry
/// without the binding was accepted, or the credentials were accepted elsewhere); else `Err`, the
/// credentials, with how the logon was made.
pub(crate) fn judge(
    endpoint: &Endpoint<'_>,
    creds: &Credentials<'_>,
    scheme: &str,
    binding: Option<&ChannelBinding>,
    retry_accepted: bool,
    accepted: Option<&AcceptedAt>,
) -> Result<BindingRefused, RefusedLogon> {
    if !scheme.eq_ignore_ascii_case("ntlm") {
        return Err(if creds.password_beyond_ascii() {
            RefusedLogon::BasicBeyondAscii
        } else {
            RefusedLogon::Basic
        });
    }
    let Some(ChannelBinding::Sent { thumbprint, .. }) = binding.filter(|_| endpoint.vdir.checks_binding()) else {
        return Err(RefusedLogon::Ntlm);
    };
    let shown_by = match (retry_accepted, accepted) {
        (true, _) => BindingEvidence::AcceptedWithout,
        (false, Some(AcceptedAt(at))) => BindingEvidence::PasswordAcceptedAt { at: at.clone() },
        (false, None) => return Err(RefusedLogon::NtlmBound),
    };
    Ok(BindingRefused {
        url: endpoint.url.to_string(),
        host: endpoint.host.clone(),
        user: creds.user.to_string(),
        thumbprint: thumbprint.clone(),
        shown_by,
    })
}

/// The evidence line of how an NTLM logon was bound, under `label`.
pub(crate) fn binding_fact(evidence: Evidence, label: &str, binding: Option<&ChannelBinding>) -> Evidence {
    match binding {
        Some(b) => evidence.fact(&format!("{label}: channel binding"), b.words()),
        None => evidence,
    }
}

#[cfg(test)]
mod tests {
    use migcheck_shared::Password;

    use super::*;
    use crate::net::http::HttpAnswer;
    use crate::net::ntlm::EndPointHash;

    fn sent() -> ChannelBinding {
        ChannelBinding::Sent {
            hash: EndPointHash::Sha256,
            thumbprint: "AB12".into(),
        }
    }

    fn attempt(status: u16, binding: Option<ChannelBinding>) -> Attempt {
        Attempt {
            scheme: if binding.is_some() { "NTLM" } else { "Basic" },
            binding,
            answer: HttpAnswer {
                status,
                reason: String::new(),
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    #[test]
    fn a_retry_only_after_a_bound_refusal_of_proven_credentials_where_allow_is_the_default() {
        let proof = AcceptedAt("Autodiscover at https://autodiscover.contoso.com/ (Basic)".into());
        let ews = VirtualDirectory::Ews;
        assert!(may_retry_without_binding(
            &attempt(401, Some(sent())),
            ews,
            Some(&proof)
        ));
        // The password may be wrong: a second try would be one more toward the lockout.
        assert!(!may_retry_without_binding(&attempt(401, Some(sent())), ews, None));
        // Require: a logon without the binding is refused anyway.
        for vdir in [
            VirtualDirectory::Rpc,
            VirtualDirectory::Mapi,
            VirtualDirectory::Autodiscover,
        ] {
            assert!(!may_retry_without_binding(
                &attempt(401, Some(sent())),
                vdir,
                Some(&proof)
            ));
        }
        // Nothing to learn: accepted, Basic, or no binding sent in the first place.
        assert!(!may_retry_without_binding(
            &attempt(200, Some(sent())),
            ews,
            Some(&proof)
        ));
        assert!(!may_retry_without_binding(&attempt(401, None), ews, Some(&proof)));
        let zeros = ChannelBinding::Unavailable { why: "Ed25519".into() };
        assert!(!may_retry_without_binding(
            &attempt(401, Some(zeros)),
            ews,
            Some(&proof)
        ));
    }

    #[test]
    fn a_refusal_is_extended_protection_only_when_the_evidence_shows_it() {
        let password = Password::new("Passwört-1");
        let creds = Credentials::new("CONTOSO\\migadmin", &password);
        let at = |vdir| Endpoint::at("https://mail.contoso.com/EWS/Exchange.asmx", vdir);
        let proof = AcceptedAt("the RPC proxy mail.contoso.com (Basic)".into());
        let ews = at(VirtualDirectory::Ews);
        let b = sent();
        assert_eq!(
            judge(&ews, &creds, "NTLM", Some(&b), true, None).map(|r| r.shown_by),
            Ok(BindingEvidence::AcceptedWithout)
        );
        assert_eq!(
            judge(&ews, &creds, "NTLM", Some(&b), false, Some(&proof)).map(|r| r.shown_by),
            Ok(BindingEvidence::PasswordAcceptedAt { at: proof.0.clone() })
        );
        assert_eq!(
            judge(&ews, &creds, "NTLM", Some(&b), false, None),
            Err(RefusedLogon::NtlmBound)
        );
        // Autodiscover never checks a binding; zeros are not a binding.
        assert_eq!(
            judge(
                &at(VirtualDirectory::Autodiscover),
                &creds,
                "NTLM",
                Some(&b),
                false,
                Some(&proof)
            ),
            Err(RefusedLogon::Ntlm)
        );
        assert_eq!(
            judge(
                &ews,
                &creds,
                "NTLM",
                Some(&ChannelBinding::Omitted),
                false,
                Some(&proof)
            ),
            Err(RefusedLogon::Ntlm)
        );
        assert_eq!(
            judge(&ews, &creds, "Basic", None, false, Some(&proof)),
            Err(RefusedLogon::BasicBeyondAscii)
        );
        let ascii = Password::new("Password-1");
        assert_eq!(
            judge(&ews, &Credentials::new("u", &ascii), "Basic", None, false, None),
            Err(RefusedLogon::Basic)
        );
    }
}
