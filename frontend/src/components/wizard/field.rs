//! One labelled input of the wizard with its help text and, when it is wrong, its message.

use web_sys::HtmlInputElement;
use yew::prelude::*;

pub fn value_of(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// One labelled input with its help text and, when it is wrong, its message (`error-<field>`).
#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub id: AttrValue,
    /// The request field its message belongs to, when not the id (`rpc_proxy` for `rpc-proxy`).
    #[prop_or_default]
    pub field: Option<AttrValue>,
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

#[function_component(Field)]
pub fn field(props: &FieldProps) -> Html {
    let id = &props.id;
    let field = props.field.as_ref().unwrap_or(id);
    let described = match props.error {
        Some(_) => format!("{id}-help error-{field}"),
        None => format!("{id}-help"),
    };
    let invalid = if props.error.is_some() { "true" } else { "false" };
    html! {
        <div class={classes!("field", props.class.clone())}>
            <label for={id.clone()}>{ &props.label }</label>
            <input id={id.clone()} name={id.clone()} type={props.kind.clone()} value={props.value.clone()}
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
