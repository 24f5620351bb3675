//! Issue 23, "inside and outside at once": on a relay started with `--compare-with URL`, the last step
//! offers the view of that relay on the internet beside this one's, and, in a mode with a password, the
//! user's consent to send the password there too. Both unticked until the user ticks them.

use yew::prelude::*;

use super::field::{check_box, on_tick};
use crate::state::{Action, Form, State};

/// The two boxes, or nothing when the relay compares with no other (the page has no other relay to ask).
/// A function of the details step rather than a component: a component type adds to the page's download.
pub fn compare_choice(form: &Form, dispatch: &UseReducerDispatcher<State>) -> Html {
    let Some(relay) = &form.compare_with else {
        return html! {};
    };
    html! {
        <div class="fields compare">
            { check_box("compare", "field check", form.compare, on_tick(dispatch, Action::SetCompare),
                format!("Compare with the internet's view, from the migcheck relay at {relay}"),
                "Only the public name of the server goes to that relay, not the password.") }
            // Consent is asked where it applies: the host mode has no password to send.
            if form.compare && form.mode.logs_on() {
                { check_box("send-password", "field check", form.send_password, on_tick(dispatch, Action::SetSendPassword),
                    "Also send the password to that relay".into(),
                    "The whole request then goes there (the account, the mailbox, the server name and the password; the servers behind the name stay here), so that it runs every check from outside, logging on as the migration account too; the report says where the password went.") }
            }
        </div>
    }
}
