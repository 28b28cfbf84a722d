//! Per account, when each lab step first turned green (virtual clock), kept in the account's
//! global store (the scope whose region is empty) so that persistence keeps it with the rest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An account's lab progress.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabProgress {
    /// The lab the account last looked at.
    pub current: Option<String>,
    /// Per lab id.
    pub labs: BTreeMap<String, LabRecord>,
}

/// One lab's record for one account.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabRecord {
    /// The region the account does the lab in (the console's region when it last looked).
    pub region: String,
    /// Step id → epoch seconds (virtual) when its check first held.
    pub done: BTreeMap<String, f64>,
    /// When a step last turned green.
    pub last_change: Option<f64>,
}
