//! KB step 1, Outlook Anywhere: RPC over HTTP v2 ([MS-RPCH]), written from the spec: the PDUs
//! (tested on bytes captured from a real Outlook client), the channels' HTTP heads, and the client that
//! pings the proxy and binds the mailbox endpoints through it.

pub mod channel;
pub mod chunked;
pub mod client;
pub mod explain;
pub mod pdu;
pub mod virtual_connection;
