//! Listener ports on 127.0.0.1 (`--lb-listener-ports`): a controller binds every listener port
//! of every load balancer and unbinds the ones no load balancer uses any more.
//!
//! Several load balancers may share a port (two Classic ELBs on 80): the Host header picks
//! one; a request whose Host names no load balancer goes to the port's only load balancer, or
//! gets a 503 when there are several. A port that cannot be bound (in use, privileged) is
//! logged and retried on the next pass.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::LbRef;
use crate::controllers::{Controller, ControllerError};
use crate::state::AppState;

/// Virtual seconds between passes when nothing changes (writes wake it at once).
const PASS_SECONDS: f64 = 30.0;

/// The listener-port binder.
#[derive(Debug)]
pub struct ListenerPorts {
    state: Arc<AppState>,
    bound: Mutex<HashMap<u16, JoinHandle<()>>>,
}

impl ListenerPorts {
    /// A binder for `state`'s load balancers.
    pub fn new(state: Arc<AppState>) -> Self {
        Self {
            state,
            bound: Mutex::default(),
        }
    }
}

impl Drop for ListenerPorts {
    fn drop(&mut self) {
        // Shutdown: stop accepting on every listener port.
        for (_, task) in self
            .bound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
        {
            task.abort();
        }
    }
}

/// The ports load balancers listen on now.
pub fn wanted_ports(state: &AppState) -> Vec<u16> {
    let mut ports: Vec<u16> = state
        .dataplane
        .index
        .all()
        .into_iter()
        .flat_map(|(_, e)| e.ports)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The load balancer to use on `port` when the Host names none: the only one on that port.
fn only_lb_on(state: &AppState, port: u16) -> Option<LbRef> {
    let mut on_port = state
        .dataplane
        .index
        .all()
        .into_iter()
        .filter(|(_, e)| e.ports.contains(&port));
    match (on_port.next(), on_port.next()) {
        (Some((_, e)), None) => Some(e.lb),
        _ => None,
    }
}

impl Controller for ListenerPorts {
    fn name(&self) -> &'static str {
        "lb-listener-ports"
    }

    async fn reconcile(&self, state: &AppState) -> Result<f64, ControllerError> {
        let wanted = wanted_ports(state);
        let mut to_bind = Vec::new();
        {
            let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
            bound.retain(|port, task| {
                let keep = wanted.contains(port) && !task.is_finished();
                if !keep {
                    task.abort();
                }
                keep
            });
            to_bind.extend(wanted.iter().filter(|p| !bound.contains_key(p)).copied());
        }
        for port in to_bind {
            match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
                Ok(listener) => {
                    tracing::info!(port, "load balancer listener port bound");
                    let task = tokio::spawn(accept_loop(listener, port, self.state.clone()));
                    self.bound
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(port, task);
                }
                Err(err) => tracing::warn!(port, error = %err, "cannot bind load balancer port"),
            }
        }
        Ok(PASS_SECONDS)
    }
}

async fn accept_loop(listener: TcpListener, port: u16, state: Arc<AppState>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(err) => {
                tracing::warn!(port, error = %err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true); // best effort
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move {
                    let fallback = only_lb_on(&state, port);
                    Ok::<_, Infallible>(
                        super::proxy::handle(state, req, peer, Some(port), fallback).await,
                    )
                }
            });
            if let Err(err) = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "listener connection ended with an error");
            }
        });
    }
}
