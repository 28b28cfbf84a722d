//! A resolver's view of a request and its answer: where the request goes ([`Route`]), what
//! to do once it is served ([`Decision::on_complete`] with the [`Outcome`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method};

use crate::backend::HttpAddress;

/// What a resolver sees of a request (borrowed from it: resolving costs no copies).
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path without the query.
    pub path: &'a str,
    /// Raw query string, when present.
    pub query: Option<&'a str>,
    /// The `Host` header value as sent (may carry a port).
    pub host: &'a str,
    /// Request headers (cookies for stickiness, conditions of ALB rules).
    pub headers: &'a HeaderMap,
    /// The client.
    pub client: SocketAddr,
    /// The listener port the request arrived on, when it came in on a listener port
    /// (`--lb-listener-ports`). `None` on the main port: pick the listener whose port the Host
    /// names, else the load balancer's first HTTP(S) listener.
    pub listener_port: Option<u16>,
}

/// One instance or target a request may go to.
#[derive(Debug, Clone)]
pub struct Backend {
    /// `i-…` (or the target id of an `ip` target).
    pub instance_id: String,
    /// The instance port.
    pub port: u16,
    /// Where to send it (`state.backend.http_address(id, port)`).
    pub address: HttpAddress,
}

/// Forward to one of `backends`.
#[derive(Debug, Clone, Default)]
pub struct Forward {
    /// Healthy backends in preference order: the first one is used; later ones only when an
    /// earlier one cannot be reached.
    pub backends: Vec<Backend>,
    /// The listener's port (`X-Forwarded-Port`).
    pub listener_port: u16,
    /// `http` or `https` (`X-Forwarded-Proto`).
    pub listener_protocol: &'static str,
    /// `Set-Cookie` values to add to the response (stickiness cookies).
    pub set_cookies: Vec<String>,
    /// A stickiness cookie that names the backend that serves, written once it is known.
    pub sticky: Option<StickyCookie>,
    /// The load balancer's idle timeout: how long (real time) a backend may take to send its
    /// response head before the client gets a 504. `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// Speak TLS to socket backends with this (HTTPS back ends); `None`: plain HTTP.
    pub backend_tls: Option<super::BackendTls>,
}

/// Makes the `Set-Cookie` values that name a backend.
pub type CookieValues = Arc<dyn Fn(&Backend) -> Vec<String> + Send + Sync>;

/// A stickiness cookie the proxy writes after the response head arrives: it names the backend
/// that actually served (a fallback, when the first could not be reached), and with
/// application-controlled stickiness it is written only when the response sets the
/// application's cookie.
#[derive(Clone)]
pub struct StickyCookie {
    /// Application-controlled stickiness: write the cookie only when the response has a
    /// `Set-Cookie` for this cookie name. `None`: duration-based, always written.
    pub app_cookie: Option<String>,
    /// The backend a valid cookie of the request already names (index into
    /// [`Forward::backends`]): when it serves, duration-based stickiness writes nothing.
    pub stuck_to: Option<usize>,
    /// The `Set-Cookie` values naming a backend.
    pub values: CookieValues,
}

impl StickyCookie {
    /// The `Set-Cookie` values to add when `served` (an index into `backends`) answered with
    /// `headers`.
    pub fn cookies_for(
        &self,
        backends: &[Backend],
        served: usize,
        headers: &HeaderMap,
    ) -> Vec<String> {
        let write = match &self.app_cookie {
            Some(name) => sets_cookie(headers, name),
            None => self.stuck_to != Some(served),
        };
        match backends.get(served) {
            Some(b) if write => (self.values)(b),
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Debug for StickyCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StickyCookie")
            .field("app_cookie", &self.app_cookie)
            .field("stuck_to", &self.stuck_to)
            .finish_non_exhaustive()
    }
}

/// A request cookie's value.
pub fn request_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether response headers set a cookie named `name` (exactly, as cookie names are
/// case-sensitive).
pub fn sets_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split_once('=').is_some_and(|(n, _)| n.trim() == name))
}

/// What to do with a request.
#[derive(Debug, Clone)]
pub enum Route {
    /// Proxy to a backend.
    Forward(Forward),
    /// Answer a redirect (ALB redirect action).
    Redirect {
        /// 301 or 302.
        status: u16,
        /// The `Location`.
        location: String,
    },
    /// Answer fixed content (ALB fixed-response action, ALB error pages).
    Fixed {
        /// Status.
        status: u16,
        /// `Content-Type`, when any.
        content_type: Option<String>,
        /// Body.
        body: String,
        /// Extra headers (e.g. `Server: awselb/2.0`).
        headers: Vec<(String, String)>,
    },
    /// No healthy backend: Classic ELB's `503 Service Unavailable`, empty body.
    NoHealthy,
}

/// The outcome of one request, reported to [`Decision::on_complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Index into [`Forward::backends`] of the backend that answered, when one did.
    pub served_by: Option<usize>,
    /// Status sent to the client.
    pub status: u16,
    /// True when the status came from a backend; false when the load balancer produced it
    /// (503, 502, 504, redirects and fixed responses).
    pub from_backend: bool,
    /// Real seconds from sending the request to a backend until its response head came back
    /// (0 when no backend was involved).
    pub latency: f64,
}

/// Called once per request with its outcome.
pub type Completion = Box<dyn FnOnce(&Outcome) + Send>;

/// A resolver's answer.
pub struct Decision {
    /// What to do.
    pub route: Route,
    /// Metrics and bookkeeping after the fact.
    pub on_complete: Option<Completion>,
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl Decision {
    /// A decision without bookkeeping.
    pub fn plain(route: Route) -> Self {
        Self {
            route,
            on_complete: None,
        }
    }
}

/// The body of ALB's error page for `status` with reason `text`.
fn error_html(status: u16, text: &str) -> String {
    let title = format!("{status} {text}");
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
}

/// ALB's own error page: the nginx-style HTML with CRLF line ends and `Server: awselb/2.0`
/// (as captured from real ALB 503 and 502 responses quoted in public code).
pub fn alb_error_page(status: u16, text: &str) -> Route {
    Route::Fixed {
        status,
        content_type: Some("text/html".into()),
        body: error_html(status, text),
        headers: vec![("Server".into(), "awselb/2.0".into())],
    }
}
