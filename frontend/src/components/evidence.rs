//! The evidence behind a check: facts as a definition list, then each certificate as a table.
//!
//! Facts come in two kinds: words (`Negotiated version: TLS 1.3`) and protocol text (a request line
//! such as `POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml`, a header such as
//! `WWW-Authenticate`, a URL, an SRV record). Protocol text is set in monospace, and a long label takes
//! a row of its own with its value below, so nothing is squeezed into a narrow column.

use migcheck_shared::{Evidence, Fact};
use yew::prelude::*;

use super::{CertificateTable, class_list};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub evidence: Evidence,
}

/// Labels longer than this get a full row (the value goes below).
const WIDE_LABEL: usize = 40;

/// `POST https://…`, `GET http://…`: a request the probe made; `SRV _autodiscover._tcp.…`: a DNS question.
fn is_request_line(label: &str) -> bool {
    label.split_once(' ').is_some_and(|(method, rest)| {
        let http = matches!(
            method,
            "GET" | "POST" | "HEAD" | "OPTIONS" | "PUT" | "RPC_IN_DATA" | "RPC_OUT_DATA"
        ) && (rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with('/'));
        http || (method == "SRV" && rest.starts_with('_'))
    })
}

/// `WWW-Authenticate`, `x-feserver`, `server`, `CertPrincipalName`: a header or a setting's own name.
fn is_protocol_name(label: &str) -> bool {
    let token = !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let camel = label.chars().any(|c| c.is_ascii_lowercase()) && label.chars().skip(1).any(|c| c.is_ascii_uppercase());
    // Header names as a server sends them are often all lower case; our own labels are capitalised.
    let lower = label.chars().all(|c| !c.is_ascii_uppercase());
    token && (label.contains('-') || camel || lower)
}

fn is_protocol_value(label: &str, value: &str) -> bool {
    is_protocol_name(label)
        || value.starts_with("https://")
        || value.starts_with("http://")
        || label.eq_ignore_ascii_case("SRV record")
}

/// The classes of a fact's `<dt>` and `<dd>`.
pub fn fact_classes(fact: &Fact) -> (Option<AttrValue>, Option<AttrValue>) {
    let request = is_request_line(&fact.label);
    let wide = request || fact.label.chars().count() > WIDE_LABEL;
    let label_code = request || is_protocol_name(&fact.label);
    let value_code = is_protocol_value(&fact.label, &fact.value);
    let multiline = fact.value.contains('\n');
    (
        class_list(&[wide.then_some("wide"), label_code.then_some("code")]),
        class_list(&[
            wide.then_some("wide"),
            value_code.then_some("code"),
            multiline.then_some("lines"),
        ]),
    )
}

#[function_component(EvidenceView)]
pub fn evidence_view(props: &Props) -> Html {
    let evidence = &props.evidence;
    html! {
        <div class="evidence">
            if !evidence.facts.is_empty() {
                <dl class="facts">
                    { for evidence.facts.iter().map(|fact| {
                        let (dt, dd) = fact_classes(fact);
                        html! {
                            <>
                                <dt class={dt}>{ &fact.label }</dt>
                                <dd class={dd}>{ &fact.value }</dd>
                            </>
                        }
                    }) }
                </dl>
            }
            { for evidence.certificates.iter().enumerate().map(|(index, cert)| html! {
                <CertificateTable {index} cert={cert.clone()} />
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(label: &str, value: &str) -> (String, String) {
        let (dt, dd) = fact_classes(&Fact {
            label: label.into(),
            value: value.into(),
        });
        let text = |c: Option<AttrValue>| c.map(|c| c.to_string()).unwrap_or_default();
        (text(dt), text(dd))
    }

    #[test]
    fn protocol_text_is_monospace_and_long_labels_take_a_row() {
        let (dt, dd) = classes(
            "POST https://autodiscover.contoso.test/autodiscover/autodiscover.xml",
            "at 127.0.0.1:443; TLS 1.3; 200 OK; signed in with Basic",
        );
        assert_eq!((dt.as_str(), dd.as_str()), ("wide code", "wide"));
        assert_eq!(
            classes("WWW-Authenticate", "Basic realm=\"x\" | NTLM"),
            ("code".into(), "code".into())
        );
        assert_eq!(classes("x-feserver", "EX01"), ("code".into(), "code".into()));
        assert_eq!(classes("CertPrincipalName", "msstd:mail.contoso.com").1, "code");
        assert_eq!(
            classes("SRV record", "priority 0 weight 0 port 443 target mail.contoso.com").1,
            "code"
        );
        assert_eq!(
            classes("EWS URL", "https://mail.contoso.com/EWS/Exchange.asmx"),
            ("".into(), "code".into())
        );
        assert_eq!(classes("Version", "TLS 1.3"), ("".into(), "".into()));
        assert_eq!(classes("ALPN", "h2"), ("".into(), "".into()));
        assert_eq!(classes("server", "nginx"), ("code".into(), "code".into()));
        assert_eq!(
            classes("SRV _autodiscover._tcp.contoso.com", "no SRV record").0,
            "wide code"
        );
        assert_eq!(classes("Outlook Anywhere host (EXPR Server)", "mail.contoso.com").0, "");
        assert_eq!(
            classes("Certificate principal name the server should present", "x").0,
            "wide"
        );
        assert_eq!(classes("Note", "one\ntwo").1, "lines");
    }
}
