//! SNS delivery: takes the deliveries API calls queued in each scope's outbox and delivers them
//! off the request path, as AWS does. E-mail goes to the local inbox at once; each HTTP delivery
//! runs in its own task, which POSTs and retries on the delivery policy's schedule (virtual
//! time), so a slow endpoint holds up nobody else. SQS and Lambda subscriptions are recorded
//! only: Updraft emulates neither service.

use std::sync::Arc;

use super::sns_http as http;
use super::{Controller, ControllerError, Next};
use crate::services::sns::delivery::Delivery;
use crate::services::sns::inbox;
use crate::state::{AppState, Scope, Topic, Topics};

/// The delivery loop. It holds the state so that HTTP tasks can outlive one pass.
pub struct SnsDelivery {
    state: Arc<AppState>,
}

impl SnsDelivery {
    /// A delivery loop over `state`. The signing key is made on first use, not at start-up,
    /// so that a server nobody sends SNS traffic to starts fast and stays small.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl Controller for SnsDelivery {
    fn name(&self) -> &'static str {
        "sns_delivery"
    }

    fn watches(&self) -> Topics {
        Topic::Sns.into()
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let mut taken: Vec<(Scope, Delivery)> = Vec::new();
        state.stores.for_each(|scope, s| {
            taken.extend(s.sns.outbox.drain(..).map(|d| (scope.clone(), d)));
        });
        for (scope, d) in taken {
            match d.protocol.as_str() {
                "email" | "email-json" => inbox::deliver(state, &scope, &d),
                "http" | "https" => {
                    tokio::spawn(http::deliver_http(self.state.clone(), d));
                }
                protocol => tracing::debug!(
                    protocol,
                    endpoint = d.endpoint,
                    message_id = d.message_id,
                    "recorded; Updraft does not deliver to this protocol"
                ),
            }
        }
        // Nothing to do until a write queues a delivery (every queueing touches `Topic::Sns`).
        Ok(Next::OnChange)
    }
}
