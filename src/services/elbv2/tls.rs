//! TLS termination for HTTPS (ALB, Classic), TLS (NLB) and SSL (Classic) listeners on listener
//! ports.
//!
//! A listener port whose load balancer listens there with HTTPS, TLS or SSL accepts TLS
//! ([`config_for_port`]; [`flow_config`] for the flow listeners, TLS and SSL, whose decrypted
//! stream is carried as TCP): the certificates are the listener's (ELBv2: the default one and those
//! AddListenerCertificates added; Classic: `SSLCertificateId`), looked up in ACM or IAM by
//! ARN. The client's SNI picks among them (an exact name, then a wildcard, else the default
//! certificate), as ALB's certificate selection does. The listener's security policy (Classic:
//! its `SSLNegotiationPolicyType` policy, see `elb::ssl_negotiation`) picks the
//! protocol versions and cipher suites, as far as rustls has them: TLS 1.2 and 1.3 only (a
//! policy that also lists TLS 1.0/1.1 serves 1.2), and of the policy's ciphers the ECDHE AEAD
//! ones. Decrypted requests go through the same proxy as plain ones, with
//! `X-Forwarded-Proto: https`. ALPN: HTTPS listeners offer `http/1.1`; an NLB TLS listener
//! offers what its `AlpnPolicy` names (none by default); a Classic SSL listener none.
//!
//! Built configurations are cached by (policy, certificate stamps): a re-import (new stamp)
//! gets a new one on the next connection. The data plane asks through
//! the data plane's `tls_config`, naming the port's load balancers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{CipherSuite, ServerConfig, SupportedCipherSuite};

pub use crate::lb::PortLb;
use crate::services::acm::{ca::CaCell, lookup, x509};
use crate::state::AppState;

/// Caches built configurations get no larger than this (cleared when full).
const CACHE_LIMIT: usize = 256;

/// Certificates ready to serve and the local CA (`state.tls`).
#[derive(Debug, Default)]
pub struct TlsState {
    /// The local CA that issues RequestCertificate's certificates.
    pub ca: CaCell,
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
    keys: Mutex<HashMap<String, Arc<NamedKey>>>,
}

/// A certificate ready to serve, with the names it covers.
#[derive(Debug)]
struct NamedKey {
    names: Vec<String>,
    key: Arc<CertifiedKey>,
}

/// What a listener negotiates: protocol names (`TLSv1.2`) and OpenSSL cipher names, in
/// preference order (a security policy's, or a Classic negotiation policy's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// Protocols.
    pub protocols: Vec<String>,
    /// Ciphers.
    pub ciphers: Vec<String>,
}

impl Terms {
    /// The terms of a predefined security policy, when it exists.
    pub fn of_policy(policy: &str) -> Option<Self> {
        let (protocols, ciphers) = super::ssl_policies::policy_terms(policy)?;
        Some(Self {
            protocols: protocols.iter().map(|p| (*p).to_owned()).collect(),
            ciphers: ciphers.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// What a secure listener asks of TLS.
#[derive(Debug, Clone, PartialEq)]
pub struct SecureListener {
    /// Its load balancer.
    pub lb: PortLb,
    /// Security policy name (ELBv2), or negotiation policy name (Classic).
    pub policy: String,
    /// What the policy allows.
    pub terms: Terms,
    /// Certificate ARNs, the default first.
    pub certificates: Vec<String>,
    /// ALPN protocols offered, in preference order.
    pub alpn: Vec<&'static str>,
}

/// The ALPN protocols an NLB TLS listener's `AlpnPolicy` offers.
fn alpn_of_policy(policy: Option<&[String]>) -> Vec<&'static str> {
    match policy.and_then(|p| p.first()).map(String::as_str) {
        Some("HTTP1Only") => vec!["http/1.1"],
        Some("HTTP2Only") => vec!["h2"],
        Some("HTTP2Optional") => vec!["http/1.1", "h2"],
        Some("HTTP2Preferred") => vec!["h2", "http/1.1"],
        _ => Vec::new(),
    }
}

/// The secure listener of `lb` on `port`, when it has one there.
fn secure_listener(state: &AppState, lb: &PortLb, port: u16) -> Option<SecureListener> {
    let (policy, certificates, alpn) = state.stores.with(&lb.scope, |s| match lb.classic {
        false => {
            let store = &s.elbv2;
            let l = store
                .listeners_of(&lb.name)
                .into_iter()
                .find(|l| l.port == port && matches!(l.protocol.as_str(), "HTTPS" | "TLS"))?;
            let alpn = if l.protocol == "HTTPS" {
                vec!["http/1.1"]
            } else {
                alpn_of_policy(l.alpn_policy.as_deref())
            };
            let mut certs: Vec<(String, bool)> = l.certificates.clone();
            // The default certificate first.
            certs.sort_by_key(|(_, default)| !*default);
            Some((
                (
                    l.ssl_policy
                        .clone()
                        .unwrap_or_else(|| super::ssl_policies::DEFAULT_POLICY.into()),
                    None,
                ),
                certs.into_iter().map(|(c, _)| c).collect::<Vec<_>>(),
                alpn,
            ))
        }
        true => {
            let classic = s.elb.load_balancers.get(&lb.name)?;
            let l = classic
                .listeners
                .iter()
                .find(|l| l.lb_port == port && matches!(l.protocol.as_str(), "HTTPS" | "SSL"))?;
            let alpn = if l.protocol == "HTTPS" {
                vec!["http/1.1"]
            } else {
                Vec::new()
            };
            let (name, terms) = crate::services::elb::ssl_negotiation::listener_terms(classic, l);
            Some((
                (name, Some(terms)),
                l.ssl_certificate_id.iter().cloned().collect(),
                alpn,
            ))
        }
    })?;
    let (policy, terms) = policy;
    let terms = match terms {
        Some(t) => t,
        // An unknown policy allows nothing: the handshake cannot succeed.
        None => Terms::of_policy(&policy).unwrap_or_default(),
    };
    Some(SecureListener {
        lb: lb.clone(),
        policy,
        terms,
        certificates,
        alpn,
    })
}

/// The secure listeners on a listener port, across its load balancers (`lbs`).
pub fn secure_listeners_on(state: &AppState, port: u16, lbs: &[PortLb]) -> Vec<SecureListener> {
    lbs.iter()
        .filter_map(|lb| secure_listener(state, lb, port))
        .collect()
}

/// The TLS configuration of the flow listener (NLB TLS, Classic SSL) of `lb` on `port`;
/// `None` when it has none or no usable certificate (the connection is then closed).
pub fn flow_config(state: &AppState, lb: &PortLb, port: u16) -> Option<Arc<ServerConfig>> {
    config_for_port(state, port, std::slice::from_ref(lb)).flatten()
}

/// The TLS configuration connections to `port` get, or `None` when no load balancer listens
/// there with HTTPS/SSL (plain HTTP). A secure port whose certificates are all gone also gets
/// `None`; the caller then closes the connection.
pub fn config_for_port(
    state: &AppState,
    port: u16,
    lbs: &[PortLb],
) -> Option<Option<Arc<ServerConfig>>> {
    let listeners = secure_listeners_on(state, port, lbs);
    let first = listeners.first()?;
    let policy = first.policy.clone();
    let terms = first.terms.clone();
    let alpn = first.alpn.clone();
    let mut certs: Vec<(String, String, PortLb)> = Vec::new();
    for l in &listeners {
        for arn in &l.certificates {
            if let Some(stamp) = lookup::stamp(state, &l.lb.scope, arn) {
                certs.push((stamp, arn.clone(), l.lb.clone()));
            }
        }
    }
    let cache_key = format!(
        "{}/{}|{}|{}",
        terms.protocols.join(","),
        terms.ciphers.join(","),
        alpn.join(","),
        certs
            .iter()
            .map(|(s, _, _)| s.as_str())
            .collect::<Vec<_>>()
            .join("|")
    );
    let tls = &state.tls;
    if let Some(c) = lock(&tls.configs).get(&cache_key) {
        return Some(Some(c.clone()));
    }
    let keys: Vec<Arc<NamedKey>> = certs
        .iter()
        .filter_map(|(stamp, arn, lb)| named_key(state, stamp, arn, lb))
        .collect();
    if keys.is_empty() {
        tracing::warn!(port, "secure listener without a usable certificate");
        return Some(None);
    }
    let config = match build(&terms, keys, &alpn) {
        Ok(c) => Arc::new(c),
        Err(err) => {
            tracing::warn!(port, %policy, error = %err, "cannot build the listener's TLS configuration");
            return Some(None);
        }
    };
    let mut configs = lock(&tls.configs);
    if configs.len() >= CACHE_LIMIT {
        configs.clear();
    }
    configs.insert(cache_key, config.clone());
    Some(Some(config))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A certificate's rustls key, parsed once per stamp.
fn named_key(state: &AppState, stamp: &str, arn: &str, lb: &PortLb) -> Option<Arc<NamedKey>> {
    let tls = &state.tls;
    if let Some(k) = lock(&tls.keys).get(stamp) {
        return Some(k.clone());
    }
    let m = lookup::material(state, &lb.scope, arn)?;
    let parsed = (|| {
        let (der, info) = x509::certificate(m.cert_pem.as_bytes())?;
        let mut chain = vec![der];
        if let Some(c) = &m.chain_pem {
            chain.extend(x509::certificates(c.as_bytes())?);
        }
        let key = x509::private_key(m.key_pem.as_bytes())?;
        Ok::<_, String>(NamedKey {
            names: info.names,
            key: x509::certified_key(chain, &key)?,
        })
    })();
    match parsed {
        Ok(k) => {
            let k = Arc::new(k);
            let mut keys = lock(&tls.keys);
            if keys.len() >= CACHE_LIMIT {
                keys.clear();
            }
            keys.insert(m.stamp, k.clone());
            Some(k)
        }
        Err(err) => {
            tracing::warn!(certificate = %arn, error = %err, "certificate cannot be served");
            None
        }
    }
}

/// Picks a certificate by SNI: an exact name, then a wildcard, else the default (first).
#[derive(Debug)]
struct SniResolver {
    keys: Vec<Arc<NamedKey>>,
}

impl SniResolver {
    fn pick(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let by = |exact: bool| {
            let name = server_name?;
            self.keys
                .iter()
                .find(|k| {
                    k.names.iter().any(|n| {
                        (exact && n.eq_ignore_ascii_case(name))
                            || (!exact && n.starts_with("*.") && x509::name_matches(n, name))
                    })
                })
                .map(|k| k.key.clone())
        };
        by(true)
            .or_else(|| by(false))
            .or_else(|| self.keys.first().map(|k| k.key.clone()))
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.pick(hello.server_name())
    }
}

/// rustls's suite for an OpenSSL cipher name of a security policy, when rustls has it.
fn suite_for(cipher: &str) -> Option<CipherSuite> {
    Some(match cipher {
        "TLS_AES_128_GCM_SHA256" => CipherSuite::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384" => CipherSuite::TLS13_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256" => CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        "ECDHE-ECDSA-AES128-GCM-SHA256" => CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-RSA-AES128-GCM-SHA256" => CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-ECDSA-AES256-GCM-SHA384" => CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-RSA-AES256-GCM-SHA384" => CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-ECDSA-CHACHA20-POLY1305" => {
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "ECDHE-RSA-CHACHA20-POLY1305" => CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        _ => return None,
    })
}

/// The protocol versions and suites a policy allows, in the policy's order.
pub fn policy_suites(
    policy: &str,
) -> Option<(
    Vec<&'static rustls::SupportedProtocolVersion>,
    Vec<SupportedCipherSuite>,
)> {
    Terms::of_policy(policy).map(|t| suites(&t))
}

/// The protocol versions and suites of `terms` that rustls has, in the terms' order.
pub fn suites(
    terms: &Terms,
) -> (
    Vec<&'static rustls::SupportedProtocolVersion>,
    Vec<SupportedCipherSuite>,
) {
    let mut versions = Vec::new();
    // TLS 1.0 and 1.1 are not in rustls: terms allowing them are served their 1.2 (every
    // predefined policy with them has 1.2 too; a Classic policy without it serves nothing).
    if terms.protocols.iter().any(|p| p == "TLSv1.2") {
        versions.push(&rustls::version::TLS12);
    }
    if terms.protocols.iter().any(|p| p == "TLSv1.3") {
        versions.push(&rustls::version::TLS13);
    }
    let all = rustls::crypto::ring::default_provider().cipher_suites;
    let suites = terms
        .ciphers
        .iter()
        .filter_map(|c| suite_for(c))
        .filter_map(|wanted| all.iter().find(|s| s.suite() == wanted).copied())
        .collect();
    (versions, suites)
}

fn build(terms: &Terms, keys: Vec<Arc<NamedKey>>, alpn: &[&str]) -> Result<ServerConfig, String> {
    let (versions, suites) = suites(terms);
    if versions.is_empty() || suites.is_empty() {
        return Err("the policy allows no protocol or cipher rustls has".into());
    }
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..rustls::crypto::ring::default_provider()
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { keys }));
    // HTTPS: the proxy speaks HTTP/1.1 to clients; flows: what the listener offers.
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_choose_versions_and_suites() {
        let (v, s) = policy_suites("ELBSecurityPolicy-2016-08").unwrap();
        assert_eq!(v, [&rustls::version::TLS12]);
        assert_eq!(
            s.first().map(|s| s.suite()),
            Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        );
        assert!(s.iter().all(|s| s.version() == &rustls::version::TLS12));
        let (v, s) = policy_suites("ELBSecurityPolicy-TLS13-1-3-2021-06").unwrap();
        assert_eq!(v, [&rustls::version::TLS13]);
        assert_eq!(s.len(), 3);
        assert!(policy_suites("nope").is_none());
    }

    #[test]
    fn sni_prefers_exact_then_wildcard_then_default() {
        let key = |name: &str| {
            let kp = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
                .unwrap()
                .self_signed(&kp)
                .unwrap();
            let pk = x509::private_key(kp.serialize_pem().as_bytes()).unwrap();
            Arc::new(NamedKey {
                names: vec![name.to_owned()],
                key: x509::certified_key(vec![cert.der().clone()], &pk).unwrap(),
            })
        };
        let (a, wild, b) = (key("a.test"), key("*.w.test"), key("b.w.test"));
        let r = SniResolver {
            keys: vec![a.clone(), wild.clone(), b.clone()],
        };
        let same = |got: Option<Arc<CertifiedKey>>, want: &Arc<NamedKey>| {
            Arc::ptr_eq(&got.unwrap(), &want.key)
        };
        assert!(same(r.pick(Some("b.w.test")), &b));
        assert!(same(r.pick(Some("x.w.test")), &wild));
        assert!(same(r.pick(Some("other.test")), &a));
        assert!(same(r.pick(None), &a));
    }
}
