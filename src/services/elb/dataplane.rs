//! Classic ELB's data-plane resolver: which InService instance a request goes to.

use std::sync::Arc;

use crate::dataplane::{Decision, LbRef, RequestInfo, Route};
use crate::state::AppState;

/// Where a request for Classic load balancer `lb` goes.
pub fn route(_state: &Arc<AppState>, _lb: &LbRef, _req: &RequestInfo) -> Decision {
    Decision::plain(Route::NoHealthy)
}
