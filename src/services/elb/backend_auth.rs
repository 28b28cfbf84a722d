//! TLS from a Classic load balancer to its instances: a listener whose `InstanceProtocol` is
//! HTTPS or SSL opens TLS to the instance port (CLB guide, "Listeners for your Classic Load
//! Balancer": HTTPS/SSL back-end connections). Any certificate is accepted unless the
//! instance port has a `BackendServerAuthenticationPolicyType` policy
//! (SetLoadBalancerPoliciesForBackendServer); then only a certificate carrying a public key of
//! one of the `PublicKeyPolicyType` policies it names (`PublicKeyPolicyName`, one or more) is
//! (CLB guide, "Configure back-end server authentication").

use super::store::{Listener, LoadBalancer};
use crate::lb::{BackendTls, backend_tls};

/// The policy type that turns back-end server authentication on.
pub const BACKEND_AUTH_TYPE: &str = "BackendServerAuthenticationPolicyType";
/// The policy type holding one public key.
pub const PUBLIC_KEY_TYPE: &str = "PublicKeyPolicyType";

/// Whether a back-end protocol is spoken over TLS.
pub fn secure_backend(instance_protocol: &str) -> bool {
    matches!(instance_protocol, "HTTPS" | "SSL")
}

/// The TLS `listener` of `lb` speaks to its instances, when its back end is secure.
pub fn backend_tls(lb: &LoadBalancer, listener: &Listener) -> Option<BackendTls> {
    if !secure_backend(&listener.instance_protocol) {
        return None;
    }
    let auth: Vec<_> = lb
        .backend_policies
        .get(&listener.instance_port)
        .into_iter()
        .flatten()
        .filter_map(|name| lb.policies.get(name))
        .filter(|p| p.type_name == BACKEND_AUTH_TYPE)
        .collect();
    if auth.is_empty() {
        return Some(backend_tls::accept_any());
    }
    let keys: Vec<String> = auth
        .iter()
        .flat_map(|p| p.attributes.iter())
        .filter(|(name, _)| name == "PublicKeyPolicyName")
        .filter_map(|(_, key_policy)| lb.policies.get(key_policy))
        .filter(|p| p.type_name == PUBLIC_KEY_TYPE)
        .filter_map(|p| p.attribute("PublicKey"))
        .map(str::to_owned)
        .collect();
    Some(backend_tls::pinned(&keys))
}
