//! One component per file, each with its `Props`.

mod certificate;
mod check_node;
mod check_tree;
mod evidence;
mod finding;
mod finding_list;
mod footer;
mod form;
mod progress;
mod verdict;

pub use certificate::CertificateTable;
pub use check_node::CheckNode;
pub use check_tree::CheckTree;
pub use evidence::EvidenceView;
pub use finding::FindingItem;
pub use finding_list::FindingList;
pub use footer::Footer;
pub use form::{DiagnoseForm, FieldErrors};
pub use progress::Progress;
pub use verdict::VerdictBanner;
