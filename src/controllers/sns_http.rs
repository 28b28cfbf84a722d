//! HTTP delivery: a real POST to the endpoint a subscription names, with AWS's headers,
//! retried on the delivery policy's schedule. AWS retries server errors and endpoints that do
//! not answer, and gives up at once on other statuses (the endpoint refused the message).
//!
//! HTTPS endpoints are reached over TLS (rustls) and their certificate is verified, as SNS
//! does: against the system's certificate authorities plus those of `--sns-https-ca-file`. A
//! certificate that does not verify fails the attempt like an endpoint that does not answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
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
        match post(&state, &d.endpoint, &headers, body.clone()).await {
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

async fn post(
    state: &AppState,
    endpoint: &str,
    headers: &[(&str, String)],
    body: String,
) -> Attempt {
    let sent = try_post(
        state.config.sns_https_ca_file.as_deref(),
        endpoint,
        headers,
        body,
    );
    match tokio::time::timeout(HTTP_TIMEOUT, sent).await {
        Ok(Ok(status)) if (200..300).contains(&status) => Attempt::Delivered,
        Ok(Ok(status)) if status == 429 || status >= 500 => {
            Attempt::Retry(format!("HTTP {status}"))
        }
        Ok(Ok(status)) => Attempt::Refused(status),
        Ok(Err(why)) => Attempt::Retry(why),
        Err(_) => Attempt::Retry("no answer within 15 s".into()),
    }
}

async fn try_post(
    ca_file: Option<&Path>,
    endpoint: &str,
    headers: &[(&str, String)],
    body: String,
) -> Result<u16, String> {
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("bad endpoint: {e}"))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri.host().ok_or("endpoint has no host")?;
    let bare_host = host.trim_matches(['[', ']']);
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri
        .authority()
        .map_or_else(|| host.to_owned(), |a| a.as_str().to_owned());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = http::Request::post(path).header(http::header::HOST, authority);
    for (k, v) in headers {
        request = request.header(*k, v.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let stream = tokio::net::TcpStream::connect((bare_host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if !https {
        return send(stream, request).await;
    }
    let name = rustls::pki_types::ServerName::try_from(bare_host.to_owned())
        .map_err(|e| format!("bad TLS server name: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(tls_config(ca_file)?);
    let tls = connector
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    send(tls, request).await
}

/// One request on a fresh HTTP/1.1 connection over `io`; the status it got.
async fn send<S>(io: S, request: http::Request<Full<Bytes>>) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "sns delivery connection ended with an error");
        }
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("send: {e}"))?;
    Ok(response.status().as_u16())
}

/// The TLS client configuration for HTTPS endpoints: the system's certificate authorities plus
/// those in `ca_file`. Built once per CA file and shared; `main` calls it at start so that an
/// unreadable file is reported then, not at the first delivery.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    static BUILT: OnceLock<Mutex<HashMap<Option<PathBuf>, Arc<rustls::ClientConfig>>>> =
        OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let key = ca_file.map(Path::to_path_buf);
    if let Some(config) = built.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(config.clone());
    }
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped, as every TLS client does: the rest still work.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let config = Arc::new(config);
    built
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, config.clone());
    Ok(config)
}
