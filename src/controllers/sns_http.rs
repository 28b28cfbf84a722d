//! HTTP delivery: a real POST to the endpoint a subscription names, with AWS's headers,
//! retried on the delivery policy's schedule. AWS retries server errors and endpoints that do
//! not answer, and gives up at once on other statuses (the endpoint refused the message).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use crate::services::sns::delivery::{Delivery, Kind, envelope};
use crate::state::AppState;

/// AWS gives an HTTP endpoint 15 seconds to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// What an HTTP attempt came to.
#[derive(Debug, PartialEq)]
enum Attempt {
    Delivered,
    /// 5xx, 429, no connection, no answer in time: try again per the policy.
    Retry(String),
    /// Other statuses are the endpoint refusing the message: AWS does not retry those.
    Refused(u16),
}

/// POST `d` to its HTTP endpoint, retrying on the policy's schedule (on the virtual clock).
pub async fn deliver_http(state: Arc<AppState>, d: Delivery) {
    let body = if d.raw {
        d.message.clone()
    } else {
        envelope(&state, &d)
    };
    let mut headers = vec![
        ("x-amz-sns-message-type", d.kind.as_str().to_owned()),
        ("x-amz-sns-message-id", d.message_id.clone()),
        ("x-amz-sns-topic-arn", d.topic_arn.clone()),
        (
            "User-Agent",
            "Amazon Simple Notification Service Agent".to_owned(),
        ),
        ("Content-Type", d.retry.content_type.clone()),
    ];
    if d.kind != Kind::SubscriptionConfirmation {
        headers.push(("x-amz-sns-subscription-arn", d.subscription_arn.clone()));
    }
    if d.raw {
        headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
    }
    let delays = d.retry.delays();
    for attempt in 0..=delays.len() {
        if attempt > 0 {
            state.clock.sleep(delays[attempt - 1]).await;
        }
        match post(&d.endpoint, &headers, body.clone()).await {
            Attempt::Delivered => {
                tracing::info!(
                    endpoint = d.endpoint,
                    message_id = d.message_id,
                    r#type = d.kind.as_str(),
                    attempt = attempt + 1,
                    "sns message delivered"
                );
                return;
            }
            Attempt::Refused(status) => {
                tracing::warn!(
                    endpoint = d.endpoint,
                    message_id = d.message_id,
                    status,
                    "sns endpoint refused the message; not retried"
                );
                return;
            }
            Attempt::Retry(why) => {
                tracing::info!(
                    endpoint = d.endpoint,
                    message_id = d.message_id,
                    attempt = attempt + 1,
                    reason = why,
                    "sns delivery attempt failed"
                );
            }
        }
    }
    tracing::warn!(
        endpoint = d.endpoint,
        message_id = d.message_id,
        attempts = delays.len() + 1,
        "sns delivery policy exhausted; message discarded"
    );
}

async fn post(endpoint: &str, headers: &[(&str, String)], body: String) -> Attempt {
    match tokio::time::timeout(HTTP_TIMEOUT, try_post(endpoint, headers, body)).await {
        Ok(Ok(status)) if (200..300).contains(&status) => Attempt::Delivered,
        Ok(Ok(status)) if status == 429 || status >= 500 => {
            Attempt::Retry(format!("HTTP {status}"))
        }
        Ok(Ok(status)) => Attempt::Refused(status),
        Ok(Err(why)) => Attempt::Retry(why),
        Err(_) => Attempt::Retry("no answer within 15 s".into()),
    }
}

async fn try_post(endpoint: &str, headers: &[(&str, String)], body: String) -> Result<u16, String> {
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("bad endpoint: {e}"))?;
    let host = uri.host().ok_or("endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let authority = uri
        .authority()
        .map_or_else(|| host.to_owned(), |a| a.as_str().to_owned());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "sns delivery connection ended with an error");
        }
    });
    let mut request = http::Request::post(path).header(http::header::HOST, authority);
    for (k, v) in headers {
        request = request.header(*k, v.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("send: {e}"))?;
    Ok(response.status().as_u16())
}
