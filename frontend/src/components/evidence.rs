//! The evidence behind a check: facts as a definition list, then each certificate as a table.

use migcheck_shared::Evidence;
use yew::prelude::*;

use super::CertificateTable;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub evidence: Evidence,
}

#[function_component(EvidenceView)]
pub fn evidence_view(props: &Props) -> Html {
    let evidence = &props.evidence;
    html! {
        <div class="evidence">
            if !evidence.facts.is_empty() {
                <dl class="facts">
                    { for evidence.facts.iter().map(|fact| html! {
                        <>
                            <dt>{ &fact.label }</dt>
                            <dd>{ &fact.value }</dd>
                        </>
                    }) }
                </dl>
            }
            { for evidence.certificates.iter().enumerate().map(|(index, cert)| html! {
                <CertificateTable {index} cert={cert.clone()} />
            }) }
        </div>
    }
}
