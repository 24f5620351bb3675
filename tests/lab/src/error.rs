use std::io;

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// rcgen or the openssl CLI could not make a certificate or key.
    #[error("certificate generation: {0}")]
    Cert(String),
    /// A server (nginx, dnsmasq) did not come up; the message carries the tail of its log.
    #[error("{0}")]
    Setup(String),
}

impl LabError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        LabError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<rcgen::Error> for LabError {
    fn from(e: rcgen::Error) -> Self {
        LabError::Cert(e.to_string())
    }
}
