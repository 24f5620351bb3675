//! KB step 3, Autodiscover: the pieces of the client sequence ([MS-OXDSCLI]). Work in progress: the
//! candidate runner and the diagnosis mode come next; these parts are tested on their own.

pub mod client;
pub mod pox;
