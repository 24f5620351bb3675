//! KB step 1, Outlook Anywhere: RPC over HTTP v2 ([MS-RPCH]), written from the spec. Work in progress:
//! the PDU layer comes first, tested on bytes captured from a real Outlook client; the channels and the
//! diagnosis come next.

pub mod channel;
pub mod pdu;
