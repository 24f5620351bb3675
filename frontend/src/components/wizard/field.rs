//! One labelled input of the wizard with its help text and, when it is wrong, its message.

use migcheck_shared::Field;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::{Action, State};

pub fn value_of(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// A checkbox's change handler: sends its new state as the action `make` builds.
pub fn on_tick(dispatch: &UseReducerDispatcher<State>, make: fn(bool) -> Action) -> Callback<Event> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: Event| dispatch.dispatch(make(e.target_unchecked_into::<HtmlInputElement>().checked())))
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

/// A checkbox in a `<div class>`, with its label and its help (`<id>-help`).
pub fn check_box(
    id: &'static str,
    class: &'static str,
    checked: bool,
    onchange: Callback<Event>,
    label: String,
    help: &'static str,
) -> Html {
    let help_id = format!("{id}-help");
    html! {
        <div {class}>
            <input {id} name={id} type="checkbox" {checked} {onchange} aria-describedby={help_id.clone()} />
            <label for={id}>{ label }</label>
            <p id={help_id} class="help">{ help }</p>
        </div>
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
    /// The classes of the field's `<div>`.
    #[prop_or(AttrValue::Static("field"))]
    pub class: AttrValue,
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
        <div class={props.class.clone()}>
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
