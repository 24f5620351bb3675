//! Issue 23, "inside and outside at once": the view of a relay on the internet beside this relay's, in
//! the order the command line prints it (what a user should read first): what was compared, what went
//! out and where the password went (the relay's sentence), the verdict from the internet (what Exchange Online sees), each
//! difference explained with its fix, then every check side by side.
//!
//! Functions of the part they show rather than components: each component type adds its share of yew's
//! machinery to the page's download, and this part of the report changes only with the report.

use migcheck_shared::report::{ComparedCheck, Difference, Seen};
use migcheck_shared::{CompareOutcome, Comparison};
use yew::prelude::*;

use super::verdict::word;
use super::{Fix, class_of};

/// One difference: how serious, its cause and the check where it shows, what it means, what each side
/// saw, and the fix with a Copy button (as a finding's).
fn difference(d: &Difference) -> Html {
    let severity = d.severity.label();
    html! {
        <li class="finding">
            <p class="cause">
                <span class={class_of("badge", severity)}>{ severity }</span>
                <strong>{ d.cause.label() }</strong>{ format!(" at {}", d.check_id) }
            </p>
            <p class="summary">{ &d.summary }</p>
            <p>{ format!("Inside: {}", d.inside) }</p>
            <p>{ format!("Outside: {}", d.outside) }</p>
            if !d.fix.is_empty() {
                <Fix fix={d.fix.clone()} />
            }
        </li>
    }
}

/// One side's status of a check as a badge; a check only the other side ran is said in words.
fn seen(seen: Option<&Seen>) -> Html {
    let (class, word) = seen.map_or((Some("ms".into()), "not run"), |s| {
        (class_of("badge", s.status.label()), s.status.label())
    });
    html! { <td><span {class}>{ word }</span></td> }
}

/// Every check of either view side by side, a mark on the rows that differ (the relay sends those
/// first), in a box that scrolls sideways (focusable, for a keyboard) rather than widen a phone's page.
fn side_by_side(rows: &[ComparedCheck]) -> Html {
    html! {
        <div class="waterfall-box" tabindex="0" role="region" aria-labelledby="side-by-side-caption">
            <table id="side-by-side" class="cert">
                <caption id="side-by-side-caption">{ "Side by side (≠: the two views differ)" }</caption>
                <thead>
                    <tr><th scope="col">{ "Check" }</th><th scope="col">{ "Inside" }</th><th scope="col">{ "Outside" }</th></tr>
                </thead>
                <tbody>
                    { for rows.iter().map(|row| html! {
                        <tr>
                            <td>{ format!("{}{} ({})", if row.differs { "≠ " } else { "" }, row.title, row.id) }</td>
                            { seen(row.inside.as_ref()) }
                            { seen(row.outside.as_ref()) }
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// The section "Inside and outside", above the findings.
pub fn comparison(c: &Comparison) -> Html {
    let compared = c.outcome == CompareOutcome::Compared;
    html! {
        <section id="comparison" class="findings" aria-labelledby="comparison-title">
            <h2 id="comparison-title">{ "Inside and outside" }</h2>
            // What went out and where the password went, or why nothing was compared (the rest of the
            // report is then the inside view): the relay's own sentence.
            <p id="comparison-sent">{ &c.message }</p>
            if compared {
                if let Some(outside) = &c.outside {
                    <p id="comparison-outside" class={class_of("verdict", outside.verdict.label())}>
                        <strong>{ format!("From the internet: {}. ", word(outside.verdict)) }</strong>
                        { &outside.headline }
                    </p>
                }
                if !c.differences.is_empty() {
                    <h3>{ "Differences" }</h3>
                    <ol id="differences">{ for c.differences.iter().map(difference) }</ol>
                }
                if !c.rows.is_empty() {
                    { side_by_side(&c.rows) }
                }
            }
        </section>
    }
}
