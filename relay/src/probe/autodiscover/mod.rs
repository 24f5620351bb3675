//! KB step 3, Autodiscover: the pieces of the client sequence ([MS-OXDSCLI]): one candidate's
//! requests (`client`), the order in which candidates may send the password (`gate`), what a server
//! that refuses it shows itself to be (`server_kind`), the POX answer (`pox`), and SOAP Autodiscover
//! (`soap`), which the hybrid side uses.

pub mod client;
pub mod gate;
pub mod pox;
pub mod server_kind;
pub mod soap;
