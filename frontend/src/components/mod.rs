//! One component per file, each with its `Props`.

mod access_token;
mod browser;
mod certificate;
mod check_node;
mod check_tree;
mod commands;
mod comparison;
mod demo;
mod evidence;
mod export;
mod finding;
mod finding_list;
mod fix;
mod footer;
mod progress;
mod report_view;
mod verdict;
mod waterfall;
mod wizard;

pub use access_token::AccessToken;
pub use certificate::CertificateTable;
pub use check_node::CheckNode;
pub use check_tree::CheckTree;
pub use commands::Commands;
pub use demo::Demos;
pub use evidence::EvidenceView;
pub use export::ExportBar;
pub use finding::FindingItem;
pub use finding_list::FindingList;
pub use fix::Fix;
pub use footer::Footer;
pub use progress::Progress;
pub use report_view::ReportView;
pub use verdict::VerdictBanner;
pub use waterfall::Waterfall;
pub use wizard::Wizard;

use yew::AttrValue;

/// The words of `words` that are there, space-separated, for a `class` attribute (none when no word
/// is). In place of yew's `classes!`, which builds its set of classes in place at every use: this one
/// function made the page 385 bytes (brotli) smaller over the components that used it.
pub fn class_list(words: &[Option<&str>]) -> Option<AttrValue> {
    let mut list = String::new();
    for word in words.iter().flatten() {
        if !list.is_empty() {
            list.push(' ');
        }
        list.push_str(word);
    }
    (!list.is_empty()).then(|| list.into())
}

/// `base` and `modifier`, as `class_list` writes them (`badge fail`).
pub fn class_of(base: &str, modifier: &str) -> Option<AttrValue> {
    class_list(&[Some(base), Some(modifier)])
}
