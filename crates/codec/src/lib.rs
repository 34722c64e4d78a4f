//! Sans-IO, spec-exact `text/event-stream` parser and encoder.
#![forbid(unsafe_code)]
