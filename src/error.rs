//! The client's error type.

use alloc::string::String;

/// Everything that can go wrong in the client, as one enum.
///
/// At the JavaScript bindings each variant becomes an `Error` whose `type` property is
/// the string returned by [`Error::kind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be used to open a connection.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The browser refused to create the underlying object (for example `EventSource`
    /// is missing in this environment).
    #[error("unsupported environment: {0}")]
    Unsupported(String),
    /// An option was given a value it cannot take (a header name, a method, ...).
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// The header provider given to `headers_with` failed.
    #[error("the header provider failed: {0}")]
    HeaderProvider(String),
    /// A JavaScript exception, carried as its message.
    #[error("JavaScript error: {0}")]
    Js(String),
}

impl Error {
    /// A short, stable name for the error's kind, used as the `type` of the JS `Error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid-url",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidOption { .. } => "invalid-option",
            Error::HeaderProvider(_) => "header-provider",
            Error::Js(_) => "js",
        }
    }
}
