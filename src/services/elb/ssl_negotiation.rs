//! SSL negotiation configurations of Classic HTTPS/SSL listeners (CLB guide, "SSL negotiation
//! configurations for Classic Load Balancers" and "Predefined SSL security policies").
//!
//! A listener's protocols and ciphers come from the `SSLNegotiationPolicyType` policy set on it
//! with SetLoadBalancerPoliciesOfListener: its `Reference-Security-Policy` (a predefined
//! `ELBSecurityPolicy-…`), or else its own attributes — `Protocol-TLSv1.2=true` and the like,
//! and one attribute per cipher (`ECDHE-RSA-AES128-GCM-SHA256=true`), in the order given. A
//! listener without one uses `ELBSecurityPolicy-2016-08`, as AWS's default. The data plane
//! serves what rustls has of them (see `elbv2::tls`): TLS 1.2 only (Classic has no TLS 1.3;
//! 1.0 and 1.1 are not in rustls) and the ECDHE AEAD ciphers; `Server-Defined-Cipher-Order` is
//! stored, the client's order is followed.
//!
//! DescribeLoadBalancerPolicies without a load balancer lists the predefined policies, each as
//! AWS describes them: every protocol and cipher attribute with `true` or `false`.

use super::store::{Listener, LoadBalancer, Policy};
use crate::services::elbv2::ssl_policies::{
    DEFAULT_POLICY, LEGACY_CIPHERS, TLS12_CIPHERS, policy_terms, pre_tls13_policies,
};
use crate::services::elbv2::tls::Terms;

/// The policy type of SSL negotiation configurations.
pub const NEGOTIATION_TYPE: &str = "SSLNegotiationPolicyType";
/// The attribute naming a predefined policy.
pub const REFERENCE: &str = "Reference-Security-Policy";
/// The attribute asking for the server's cipher order.
pub const SERVER_ORDER: &str = "Server-Defined-Cipher-Order";
/// The protocols a negotiation policy can name (as `Protocol-<name>`).
pub const PROTOCOLS: &[&str] = &["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"];

/// Whether `name` is an attribute of `SSLNegotiationPolicyType`.
pub fn is_attribute(name: &str) -> bool {
    name == REFERENCE
        || name == SERVER_ORDER
        || name
            .strip_prefix("Protocol-")
            .is_some_and(|p| PROTOCOLS.contains(&p))
        || is_cipher(name)
}

fn is_cipher(name: &str) -> bool {
    TLS12_CIPHERS.contains(&name) || LEGACY_CIPHERS.contains(&name)
}

/// Whether a predefined policy of this name can be referenced by a Classic listener.
pub fn is_predefined(name: &str) -> bool {
    pre_tls13_policies().any(|p| p == name)
}

/// The terms of a negotiation policy.
pub fn terms_of(policy: &Policy) -> Terms {
    if let Some(reference) = policy.attribute(REFERENCE) {
        return predefined_terms(reference);
    }
    let on = |v: &str| v.eq_ignore_ascii_case("true");
    let protocols = policy
        .attributes
        .iter()
        .filter(|(_, v)| on(v))
        .filter_map(|(n, _)| n.strip_prefix("Protocol-"))
        .map(str::to_owned)
        .collect();
    let ciphers = policy
        .attributes
        .iter()
        .filter(|(n, v)| on(v) && is_cipher(n))
        .map(|(n, _)| n.clone())
        .collect();
    Terms { protocols, ciphers }
}

fn predefined_terms(name: &str) -> Terms {
    let (protocols, ciphers) = policy_terms(name)
        .or_else(|| policy_terms(DEFAULT_POLICY))
        .unwrap_or_default();
    Terms {
        protocols: protocols.iter().map(|p| (*p).to_owned()).collect(),
        ciphers: ciphers.into_iter().map(str::to_owned).collect(),
    }
}

/// The terms `listener` of `lb` negotiates with: its negotiation policy's, else the default
/// policy's. Also the name to log.
pub fn listener_terms(lb: &LoadBalancer, listener: &Listener) -> (String, Terms) {
    listener
        .policy_names
        .iter()
        .find_map(|n| {
            let p = lb.policies.get(n)?;
            (p.type_name == NEGOTIATION_TYPE).then(|| (n.clone(), terms_of(p)))
        })
        .unwrap_or_else(|| (DEFAULT_POLICY.to_owned(), predefined_terms(DEFAULT_POLICY)))
}

/// The predefined policies, as DescribeLoadBalancerPolicies lists them with no load balancer.
pub fn predefined() -> Vec<(String, Policy)> {
    pre_tls13_policies()
        .map(|name| {
            let t = predefined_terms(name);
            let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
            let mut attributes: Vec<(String, String)> = PROTOCOLS
                .iter()
                .map(|p| {
                    (
                        format!("Protocol-{p}"),
                        flag(t.protocols.iter().any(|q| q == p)),
                    )
                })
                .collect();
            attributes.push((SERVER_ORDER.to_owned(), "true".to_owned()));
            attributes.extend(
                TLS12_CIPHERS
                    .iter()
                    .chain(LEGACY_CIPHERS)
                    .map(|c| ((*c).to_owned(), flag(t.ciphers.iter().any(|x| x == c)))),
            );
            (
                name.to_owned(),
                Policy {
                    type_name: NEGOTIATION_TYPE.to_owned(),
                    attributes,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(attrs: &[(&str, &str)]) -> Policy {
        Policy {
            type_name: NEGOTIATION_TYPE.into(),
            attributes: attrs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_reference_or_explicit_attributes_choose_the_terms() {
        let t = terms_of(&policy(&[(REFERENCE, "ELBSecurityPolicy-TLS-1-2-2017-01")]));
        assert_eq!(t.protocols, ["TLSv1.2"]);
        assert!(!t.ciphers.iter().any(|c| c == "AES128-SHA"));
        let t = terms_of(&policy(&[
            ("Protocol-TLSv1.2", "true"),
            ("Protocol-TLSv1", "false"),
            ("ECDHE-RSA-AES256-GCM-SHA384", "true"),
            ("ECDHE-RSA-AES128-GCM-SHA256", "false"),
            (SERVER_ORDER, "true"),
        ]));
        assert_eq!(t.protocols, ["TLSv1.2"]);
        assert_eq!(t.ciphers, ["ECDHE-RSA-AES256-GCM-SHA384"]);
        assert!(is_attribute("Protocol-TLSv1.1") && is_attribute("AES128-SHA"));
        assert!(!is_attribute("Protocol-TLSv1.3") && !is_attribute("Nope"));
    }

    #[test]
    fn predefined_policies_list_every_attribute() {
        let all = predefined();
        assert!(all.iter().any(|(n, _)| n == DEFAULT_POLICY));
        assert!(all.iter().all(|(n, _)| !n.contains("TLS13")));
        let (_, p) = all
            .iter()
            .find(|(n, _)| n == "ELBSecurityPolicy-TLS-1-2-2017-01")
            .unwrap();
        assert_eq!(p.attribute("Protocol-TLSv1"), Some("false"));
        assert_eq!(p.attribute("Protocol-TLSv1.2"), Some("true"));
        assert_eq!(p.attribute("AES128-SHA"), Some("false"));
        assert_eq!(p.attribute("ECDHE-RSA-AES128-GCM-SHA256"), Some("true"));
    }
}
