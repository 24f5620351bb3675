//! One certificate of a chain, as a small table.

use migcheck_shared::CertificateInfo;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Position in the chain as the server sent it (0 = the server's own certificate).
    pub index: usize,
    pub cert: CertificateInfo,
}

#[function_component(CertificateTable)]
pub fn certificate_table(props: &Props) -> Html {
    let cert = &props.cert;
    let caption = match (props.index, cert.self_signed) {
        (0, true) => "Server certificate (self-signed)".to_string(),
        (0, false) => "Server certificate".to_string(),
        (n, true) => format!("Chain certificate {n} (self-signed)"),
        (n, false) => format!("Chain certificate {n}"),
    };
    let row = |label: &'static str, value: Html| html! { <tr><th scope="row">{ label }</th><td>{ value }</td></tr> };
    let san = if cert.san.is_empty() {
        html! { <em>{ "none" }</em> }
    } else {
        html! { cert.san.join(", ") }
    };
    html! {
        <table class="cert">
            <caption>{ caption }</caption>
            <tbody>
                { row("Subject", html! { &cert.subject }) }
                { row("Issuer", html! { &cert.issuer }) }
                { row("Names (SAN)", san) }
                { row("Valid", html! { format!("{} to {}", cert.not_before, cert.not_after) }) }
                { row("Key", html! { format!("{} {} bits", cert.key_type, cert.key_bits) }) }
                { row("Signature algorithm", html! { &cert.signature_algorithm }) }
                { row("SHA-256", html! { <code class="hash">{ &cert.sha256 }</code> }) }
                { row("Thumbprint", html! { <code class="hash">{ &cert.thumbprint }</code> }) }
                { row("Serial", html! { <code class="hash">{ &cert.serial }</code> }) }
            </tbody>
        </table>
    }
}
