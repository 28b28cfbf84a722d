//! Signing requests the way SDKs do: the inverse of verification, for tests that need real
//! signed requests.

use http::HeaderMap;

use super::{
    Authorization, SigV4Error, canonical_request, payload_hash, request_date, signature,
    string_to_sign,
};

/// Signs requests the way SDKs do; meant for tests that need real signed requests.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// Access key id put in the credential scope.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_key: &'a str,
    /// Scope region.
    pub region: &'a str,
    /// Scope service (signing name).
    pub service: &'a str,
}

impl Signer<'_> {
    /// The `Authorization` value for a request, signing every header present in `headers`
    /// except `authorization` itself. `headers` must already hold `host` and `x-amz-date`
    /// (or `date`), and should hold exactly what will be sent.
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        raw_query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<String, SigV4Error> {
        let amz_date = request_date(headers)?;
        let mut signed_headers: Vec<String> = headers
            .keys()
            .map(|k| k.as_str().to_owned())
            .filter(|k| k != "authorization")
            .collect();
        signed_headers.sort();
        signed_headers.dedup();
        let mut auth = Authorization {
            access_key_id: self.access_key_id.to_owned(),
            date: amz_date.get(..8).unwrap_or_default().to_owned(),
            region: self.region.to_owned(),
            service: self.service.to_owned(),
            signed_headers,
            signature: String::new(),
        };
        let payload = payload_hash(headers, body)?;
        let creq = canonical_request(
            method,
            path,
            raw_query,
            headers,
            &auth.signed_headers,
            &payload,
        );
        let sts = string_to_sign(&amz_date, &auth.scope(), &creq);
        auth.signature = signature(
            self.secret_key,
            &auth.date,
            &auth.region,
            &auth.service,
            &sts,
        );
        Ok(auth.header_value())
    }
}
