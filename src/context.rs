//! Who is asking and where: the request context every handler receives.

use crate::protocol::Protocol;
use crate::state::Scope;

/// Facts about one API request, fixed before the handler runs.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id echoed in the response.
    pub request_id: String,
    /// Account and region the request acts in.
    pub scope: Scope,
    /// The CLI name of the service (`ec2`, `cloudwatch`, ...).
    pub service: &'static str,
    /// The operation name as AWS spells it.
    pub operation: String,
    /// The wire protocol the client used.
    pub protocol: Protocol,
    /// The access key id the request was signed with, if any.
    pub access_key_id: Option<String>,
}

impl RequestContext {
    /// A context for a call made in-process (tests, in-process callers), not decoded from a
    /// request: no access key, and the JSON protocol (handlers do not look at the protocol;
    /// only the codecs do).
    pub fn in_process(
        request_id: &str,
        scope: &Scope,
        service: &'static str,
        operation: &str,
    ) -> Self {
        Self {
            request_id: request_id.to_owned(),
            scope: scope.clone(),
            service,
            operation: operation.to_owned(),
            protocol: Protocol::Json,
            access_key_id: None,
        }
    }
}

/// The account an access key id stands for: a 12-digit key *is* an account id (the convention
/// LocalStack users rely on, e.g. `AWS_ACCESS_KEY_ID=123456789012`); any other key acts in the
/// default account.
pub fn account_for_access_key(access_key_id: Option<&str>, default_account: &str) -> String {
    match access_key_id {
        Some(key) if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) => key.to_owned(),
        _ => default_account.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_digit_keys_are_accounts() {
        assert_eq!(
            account_for_access_key(Some("123456789012"), "000000000000"),
            "123456789012"
        );
        assert_eq!(
            account_for_access_key(Some("AKIAIOSFODNN7EXAMPLE"), "000000000000"),
            "000000000000"
        );
        assert_eq!(
            account_for_access_key(Some("12345678901"), "000000000000"),
            "000000000000"
        );
        assert_eq!(account_for_access_key(None, "111111111111"), "111111111111");
    }
}
