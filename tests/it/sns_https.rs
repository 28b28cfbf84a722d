//! SNS HTTPS delivery over TLS: an endpoint whose certificate a trusted private authority
//! signed gets the signed notification; an untrusted one gets nothing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use updraft::Config;

use crate::common::{BOTO3_PRELUDE, TestServer};
use crate::sns_http::{AUTO_SUBSCRIBE_AND_PUBLISH, Endpoint, assert_signed};

/// A certificate authority and a server certificate it signed for 127.0.0.1: the server's
/// TLS configuration and the authority's PEM (what `--sns-https-ca-file` is given).
fn private_ca() -> (Arc<rustls::ServerConfig>, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (Arc::new(config), ca.pem())
}

#[test]
fn sns_https_delivers_over_tls_to_a_trusted_endpoint_and_not_to_an_untrusted_one() {
    let (tls, ca_pem) = private_ca();
    let ca_file = std::env::temp_dir().join(format!("updraft-sns-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_pem).unwrap();
    let trusting = TestServer::with_config(Config {
        sns_auto_confirm: true,
        sns_https_ca_file: Some(ca_file.clone()),
        ..Config::default()
    });
    let hook = Endpoint::start_tls(tls.clone());
    let out = trusting.boto3_with_env(
        &format!(
            "{BOTO3_PRELUDE}\n{}",
            AUTO_SUBSCRIBE_AND_PUBLISH.replace("'http'", "'https'")
        ),
        &[("HOOK", &hook.https_url("/tls"))],
    );
    let got = hook.wait_for(1);
    assert_eq!(got[0].path, "/tls");
    assert_eq!(
        got[0].header("x-amz-sns-message-type"),
        Some("Notification")
    );
    let envelope = got[0].json();
    assert_eq!(envelope["MessageId"], out["id"]);
    assert_eq!(envelope["Message"], "tick");
    assert_signed(&trusting, &envelope);

    // A server that does not trust the authority does not deliver: it aborts the handshake,
    // so the endpoint sees one connection and no request (the retry waits on the frozen clock).
    let wary = TestServer::with_config(Config {
        sns_auto_confirm: true,
        time_scale: 0.0,
        ..Config::default()
    });
    let untrusted = Endpoint::start_tls(tls);
    wary.boto3_with_env(
        &format!(
            "{BOTO3_PRELUDE}\n{}",
            AUTO_SUBSCRIBE_AND_PUBLISH.replace("'http'", "'https'")
        ),
        &[("HOOK", &untrusted.https_url("/tls"))],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while untrusted.aborted.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        untrusted.aborted.load(Ordering::SeqCst),
        1,
        "one refused handshake"
    );
    assert_eq!(untrusted.count(), 0);
    std::fs::remove_file(ca_file).ok();
}
