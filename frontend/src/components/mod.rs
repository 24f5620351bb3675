//! One component per file, each with its `Props`.

mod access_token;
mod browser;
mod certificate;
mod check_node;
mod check_tree;
mod commands;
mod demo;
mod evidence;
mod export;
mod finding;
mod finding_list;
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
pub use footer::Footer;
pub use progress::Progress;
pub use report_view::ReportView;
pub use verdict::VerdictBanner;
pub use waterfall::Waterfall;
pub use wizard::Wizard;
