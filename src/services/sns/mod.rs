//! The `sns` service: operation table. Handlers land here with the issue that implements them;
//! every other operation of the model answers `NotImplemented` naming it.

use super::Handler;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[];
