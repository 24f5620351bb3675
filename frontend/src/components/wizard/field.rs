//! One labelled input of the wizard with its help text and, when it is wrong, its message.

use migcheck_shared::Field;
use web_sys::HtmlInputElement;
use yew::prelude::*;

pub fn value_of(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// The id (and name) of the input of `field`: its wire name with dashes (`rpc-proxy`), as the command
/// line's flags write it.
pub fn input_id(field: Field) -> &'static str {
    match field {
        Field::RpcProxy => "rpc-proxy",
        Field::ExchangeServer => "exchange-server",
        Field::RemoteServer => "remote-server",
        Field::TargetMailbox => "target-mailbox",
        Field::AgentTarget => "agent-target",
        Field::AllowCredentialRedirect => "allow-redirect",
        other => other.name(),
    }
}

/// One labelled input with its help text and, when it is wrong, its message (`error-<field>`, by the
/// field's wire name).
#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub field: Field,
    pub label: AttrValue,
    /// `None` leaves the input uncontrolled (the password).
    #[prop_or_default]
    pub value: Option<AttrValue>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    #[prop_or(AttrValue::Static("off"))]
    pub autocomplete: AttrValue,
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    #[prop_or_default]
    pub size: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    pub error: Option<String>,
    pub oninput: Callback<InputEvent>,
    #[prop_or_default]
    pub node_ref: NodeRef,
    /// The help text, shown under the input (`<id>-help`).
    pub children: Html,
}

#[function_component(FieldInput)]
pub fn field_input(props: &FieldProps) -> Html {
    let id = input_id(props.field);
    let field = props.field.name();
    let described = match props.error {
        Some(_) => format!("{id}-help error-{field}"),
        None => format!("{id}-help"),
    };
    let invalid = if props.error.is_some() { "true" } else { "false" };
    html! {
        <div class={classes!("field", props.class.clone())}>
            <label for={id}>{ &props.label }</label>
            <input {id} name={id} type={props.kind.clone()} value={props.value.clone()}
                ref={props.node_ref.clone()}
                placeholder={props.placeholder.clone()} inputmode={props.inputmode.clone()}
                size={props.size.clone()} autocomplete={props.autocomplete.clone()}
                autocapitalize="none" spellcheck="false"
                aria-invalid={invalid} aria-describedby={described}
                oninput={props.oninput.clone()} />
            <p id={format!("{id}-help")} class="help">{ props.children.clone() }</p>
            if let Some(message) = &props.error {
                <p id={format!("error-{field}")} class="error" role="alert">{ message }</p>
            }
        </div>
    }
}
