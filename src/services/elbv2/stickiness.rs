//! ALB sticky sessions of a target group (ALB guide "Sticky sessions for your Application Load
//! Balancer"): which target a request's cookie keeps it on, and the cookie the load balancer
//! writes once it knows the target that served.
//!
//! - Duration-based (`stickiness.type=lb_cookie`): `AWSALB` (and its CORS twin `AWSALBCORS`)
//!   names the target, written on every response with an expiry 7 days out.
//! - Application-based (`app_cookie`): the load balancer writes its own cookie, `AWSALBAPP-0`,
//!   only when the target's response sets the application cookie the group names
//!   (`stickiness.app_cookie.cookie_name`); it also expires 7 days out, while the stickiness
//!   itself lasts `stickiness.app_cookie.duration_seconds` from that response (carried in the
//!   cookie's value, as AWS's encrypted cookie carries it).
//!
//! Values are URL-safe base64 of `<id>:<port>` (plus `|<deadline>` for `AWSALBAPP-0`), opaque
//! to clients as AWS's encrypted ones are.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::store::TargetGroup;
use crate::lb::{Backend, StickyCookie, request_cookie};

/// Seconds the load balancer's cookies live: 7 days, reset on every cookie written.
const COOKIE_SECONDS: f64 = 7.0 * 86_400.0;

/// The cookie of application-based stickiness (AWS splits long values over `AWSALBAPP-0..3`;
/// ours always fit the first).
pub const APP_COOKIE: &str = "AWSALBAPP-0";

/// A target group's stickiness.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `lb_cookie`.
    Duration,
    /// `app_cookie`: the application's cookie name and the stickiness duration (seconds).
    App(String, f64),
}

/// The stickiness of a group, when enabled (`source_ip` is for network load balancers).
pub fn mode(tg: &TargetGroup) -> Option<Mode> {
    if tg.attribute("stickiness.enabled") != "true" {
        return None;
    }
    match tg.attribute("stickiness.type") {
        "lb_cookie" => Some(Mode::Duration),
        "app_cookie" => {
            let seconds = tg
                .attribute("stickiness.app_cookie.duration_seconds")
                .parse()
                .unwrap_or(86_400.0);
            let name = tg.attribute("stickiness.app_cookie.cookie_name");
            Some(Mode::App(name.to_owned(), seconds))
        }
        _ => None,
    }
}

/// The target (`<id>:<port>`) a request's stickiness cookie names, when valid at `now`.
pub fn stuck_target(mode: &Mode, headers: &http::HeaderMap, now: f64) -> Option<String> {
    let name = match mode {
        Mode::Duration => "AWSALB",
        Mode::App(..) => APP_COOKIE,
    };
    let value = request_cookie(headers, name)?;
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(value).ok()?).ok()?;
    match mode {
        Mode::Duration => Some(decoded),
        Mode::App(..) => {
            let (target, until) = decoded.rsplit_once('|')?;
            (until.parse::<f64>().ok()? > now).then(|| target.to_owned())
        }
    }
}

/// The cookie the proxy writes for the target that served a response at `now`.
pub fn cookie(mode: Mode, now: f64) -> StickyCookie {
    let expires = http_date(now + COOKIE_SECONDS);
    match mode {
        Mode::Duration => StickyCookie {
            app_cookie: None,
            stuck_to: None,
            values: Arc::new(move |b: &Backend| {
                let value = URL_SAFE_NO_PAD.encode(format!("{}:{}", b.instance_id, b.port));
                vec![
                    format!("AWSALB={value}; Expires={expires}; Path=/"),
                    format!("AWSALBCORS={value}; Expires={expires}; Path=/; SameSite=None; Secure"),
                ]
            }),
        },
        Mode::App(name, seconds) => StickyCookie {
            app_cookie: Some(name),
            stuck_to: None,
            values: Arc::new(move |b: &Backend| {
                let target = format!("{}:{}|{}", b.instance_id, b.port, now + seconds);
                let value = URL_SAFE_NO_PAD.encode(target);
                vec![format!("{APP_COOKIE}={value}; Expires={expires}; Path=/")]
            }),
        },
    }
}

/// An HTTP date (`Thu, 20 Oct 2022 17:17:58 GMT`) for cookie expiry.
pub fn http_date(epoch: f64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::HttpAddress;

    #[test]
    fn app_cookie_is_written_only_when_the_application_sets_its_cookie() {
        let backends = vec![Backend {
            instance_id: "i-1".into(),
            port: 80,
            address: HttpAddress::Socket("127.0.0.1:1".parse().unwrap()),
        }];
        let sticky = cookie(Mode::App("SESSION".into(), 100.0), 1000.0);
        let mut h = http::HeaderMap::new();
        h.insert(http::header::SET_COOKIE, "OTHER=1".parse().unwrap());
        assert!(sticky.cookies_for(&backends, 0, &h).is_empty());
        h.append(
            http::header::SET_COOKIE,
            "SESSION=abc; Path=/".parse().unwrap(),
        );
        let set = sticky.cookies_for(&backends, 0, &h);
        assert_eq!(set.len(), 1);
        let value = set[0]
            .strip_prefix("AWSALBAPP-0=")
            .and_then(|v| v.split(';').next())
            .unwrap();
        // The request that brings it back is stuck to i-1:80 until the duration has passed.
        let mut req = http::HeaderMap::new();
        req.insert(
            http::header::COOKIE,
            format!("SESSION=abc; AWSALBAPP-0={value}").parse().unwrap(),
        );
        let mode = Mode::App("SESSION".into(), 100.0);
        assert_eq!(stuck_target(&mode, &req, 1050.0).as_deref(), Some("i-1:80"));
        assert_eq!(stuck_target(&mode, &req, 1101.0), None);
        // Duration-based: written on every response.
        let lb = cookie(Mode::Duration, 1000.0);
        assert_eq!(
            lb.cookies_for(&backends, 0, &http::HeaderMap::new()).len(),
            2
        );
    }
}
