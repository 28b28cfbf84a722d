//! The client side of one data-plane connection: what stays the same for every request on it
//! (who the client is, which port it came in on), worked out once when the connection is
//! accepted instead of once per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::server::conns::Slot;

/// One client connection of the data plane (the main port's, or a listener port's).
#[derive(Debug)]
pub struct ClientConn {
    /// The client.
    pub peer: SocketAddr,
    /// The listener port the connection arrived on (`--lb-listener-ports`); `None` on the
    /// main port.
    pub listener_port: Option<u16>,
    /// The client's address as an `X-Forwarded-For` value (the whole header when the request
    /// carries none of its own).
    forwarded_for: HeaderValue,
    /// The connection's slot, whose idle timeout becomes the load balancer's once one answers.
    slot: Arc<Slot>,
}

impl ClientConn {
    /// The context of a connection from `peer`, held in `slot`.
    pub fn new(peer: SocketAddr, listener_port: Option<u16>, slot: Arc<Slot>) -> Arc<Self> {
        let ip = peer.ip().to_string();
        // An IP address is always a valid header value.
        let forwarded_for =
            HeaderValue::from_str(&ip).unwrap_or_else(|_| HeaderValue::from_static(""));
        Arc::new(Self {
            peer,
            listener_port,
            forwarded_for,
            slot,
        })
    }

    /// The client's address as an `X-Forwarded-For` value (shared: cloning copies nothing).
    pub fn forwarded_for(&self) -> &HeaderValue {
        &self.forwarded_for
    }

    /// The load balancer that answered has idle timeout `idle`: the client side of the
    /// connection honours it from now on (`server::conns`).
    pub fn set_idle_timeout(&self, idle: Duration) {
        self.slot.set_idle_timeout(idle);
    }
}
