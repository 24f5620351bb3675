//! KB step 3, Autodiscover: the pieces of the client sequence ([MS-OXDSCLI]): one candidate's
//! requests (`client`), the order in which candidates may send the password (`gate`), what a server
//! that refuses it shows itself to be (`server_kind`), and the POX answer (`pox`).

pub mod client;
pub mod gate;
pub mod pox;
pub mod server_kind;
