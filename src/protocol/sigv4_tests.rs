//! Unit and property tests of `protocol::sigv4`.

use super::*;
use http::{HeaderName, HeaderValue};
use proptest::prelude::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

#[test]
fn parses_authorization() {
    let auth = parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;X-Amz-Date, Signature=abc",
    )
    .unwrap();
    assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
    assert_eq!(auth.date, "20150830");
    assert_eq!(auth.region, "us-east-1");
    assert_eq!(auth.service, "service");
    assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
    assert_eq!(auth.signature, "abc");
    assert_eq!(auth.scope(), "20150830/us-east-1/service/aws4_request");
}

#[test]
fn rejects_malformed_authorization() {
    for bad in [
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA1 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=a/2015083/r/s/aws4_request, SignedHeaders=host, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws5_request, SignedHeaders=host, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/aws4_request, SignedHeaders=host, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=a;;b, Signature=x",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature",
        "AWS4-HMAC-SHA256 Signature=x, Signature=y, Credential=a/20150830/r/s/aws4_request, \
         SignedHeaders=host",
    ] {
        assert!(
            matches!(parse_authorization(bad), Err(SigV4Error::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn canonical_uri_normalizes_and_double_encodes() {
    for (raw, canonical) in [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("/./", "/"),
        ("/example/..", "/"),
        ("/a/b/../..", "/"),
        ("/./example", "/example"),
        ("//example//", "/example/"),
        ("/a/b/../c/", "/a/c/"),
        ("/example space/", "/example%20space/"),
        ("/example/$delete", "/example/%24delete"),
        ("/a%2Fb", "/a%252Fb"),
        (
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        ),
    ] {
        assert_eq!(canonical_uri(raw), canonical, "{raw:?}");
    }
}

#[test]
fn canonical_query_sorts_and_reencodes() {
    assert_eq!(canonical_query(""), "");
    assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
    assert_eq!(canonical_query("k&x="), "k=&x=");
    assert_eq!(canonical_query("a=b+c%2fd&e=%zz"), "a=b%20c%2Fd&e=%25zz");
    assert_eq!(
        canonical_query("%E1%88%B4=1&Param=2"),
        "%E1%88%B4=1&Param=2"
    );
}

#[test]
fn header_values_are_trimmed_collapsed_and_joined() {
    let h = headers(&[("x-a", "  a   b\tc  "), ("x-a", "d"), ("host", "h:1")]);
    let creq = canonical_request(
        "GET",
        "/",
        "",
        &h,
        &["host".to_owned(), "x-a".to_owned(), "x-missing".to_owned()],
        "p",
    );
    assert_eq!(
        String::from_utf8(creq).unwrap(),
        "GET\n/\n\nhost:h:1\nx-a:a b c,d\nx-missing:\n\nhost;x-a;x-missing\np"
    );
}

#[test]
fn date_header_fallback() {
    let h = headers(&[("date", "Sun, 30 Aug 2015 12:36:00 GMT")]);
    assert_eq!(request_date(&h).unwrap(), "20150830T123600Z");
    assert_eq!(
        request_date(&HeaderMap::new()),
        Err(SigV4Error::MissingDate)
    );
    let h = headers(&[("x-amz-date", "2015-08-30T12:36:00Z")]);
    assert!(matches!(request_date(&h), Err(SigV4Error::InvalidDate(_))));
}

#[test]
fn payload_hash_rules() {
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(payload_hash(&HeaderMap::new(), b"").unwrap(), empty);
    let h = headers(&[("x-amz-content-sha256", empty)]);
    assert_eq!(payload_hash(&h, b"").unwrap(), empty);
    assert_eq!(payload_hash(&h, b"x"), Err(SigV4Error::PayloadHashMismatch));
    let h = headers(&[("x-amz-content-sha256", UNSIGNED_PAYLOAD)]);
    assert_eq!(payload_hash(&h, b"x").unwrap(), UNSIGNED_PAYLOAD);
    let h = headers(&[("x-amz-content-sha256", "nope")]);
    assert!(matches!(
        payload_hash(&h, b""),
        Err(SigV4Error::Malformed(_))
    ));
}

#[test]
fn signer_round_trips_and_verify_rejects_tampering() {
    let signer = Signer {
        access_key_id: "AKID",
        secret_key: "secret",
        region: "eu-west-1",
        service: "monitoring",
    };
    let h = headers(&[
        ("host", "127.0.0.1:4566"),
        ("x-amz-date", "20261128T040508Z"),
        ("content-type", "application/x-amz-json-1.0"),
    ]);
    let value = signer.authorization("POST", "/", "", &h, b"{}").unwrap();
    let auth = parse_authorization(&value).unwrap();
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
    assert_eq!(auth.header_value(), value);
    verify("POST", "/", "", &h, b"{}", &auth, "secret").unwrap();
    assert_eq!(
        verify("POST", "/", "", &h, b"{ }", &auth, "secret"),
        Err(SigV4Error::Mismatch)
    );
    assert_eq!(
        verify("POST", "/", "", &h, b"{}", &auth, "secreT"),
        Err(SigV4Error::Mismatch)
    );
    assert_eq!(
        verify("PUT", "/", "", &h, b"{}", &auth, "secret"),
        Err(SigV4Error::Mismatch)
    );
    assert_eq!(
        verify("POST", "/x", "", &h, b"{}", &auth, "secret"),
        Err(SigV4Error::Mismatch)
    );
    assert_eq!(
        verify("POST", "/", "a=b", &h, b"{}", &auth, "secret"),
        Err(SigV4Error::Mismatch)
    );

    let mut wrong_day = auth.clone();
    wrong_day.date = "20261127".to_owned();
    assert!(matches!(
        verify("POST", "/", "", &h, b"{}", &wrong_day, "secret"),
        Err(SigV4Error::DateMismatch { .. })
    ));
    let mut no_host = auth.clone();
    no_host.signed_headers.retain(|h| h != "host");
    assert!(matches!(
        verify("POST", "/", "", &h, b"{}", &no_host, "secret"),
        Err(SigV4Error::Malformed(_))
    ));
    let mut upper = auth;
    upper.signature = upper.signature.to_ascii_uppercase();
    assert_eq!(
        verify("POST", "/", "", &h, b"{}", &upper, "secret"),
        Err(SigV4Error::Mismatch)
    );
}

#[test]
fn error_codes() {
    assert_eq!(SigV4Error::Mismatch.aws_code(), "SignatureDoesNotMatch");
    assert_eq!(SigV4Error::Mismatch.http_status(), 403);
    assert_eq!(SigV4Error::MissingDate.aws_code(), "IncompleteSignature");
    assert_eq!(SigV4Error::Malformed(String::new()).http_status(), 400);
}

fn header_strategy() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("host".to_owned()),
        Just("x-amz-date".to_owned()),
        Just("date".to_owned()),
        Just("x-amz-content-sha256".to_owned()),
        Just("content-type".to_owned()),
        "[a-z][a-z0-9-]{0,12}",
    ];
    let value = prop_oneof![
        Just(b"20150830T123600Z".to_vec()),
        Just(b"Sun, 30 Aug 2015 12:36:00 GMT".to_vec()),
        Just(UNSIGNED_PAYLOAD.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec((name, value), 0..8).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_bytes(&v),
            ) {
                map.append(k, v);
            }
        }
        map
    })
}

fn authorization_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        (
            "[^/,]{0,6}",
            prop_oneof![Just("20150830".to_owned()), "[0-9]{0,9}"],
            "[^/,]{0,6}",
            "[^/,]{0,6}",
            prop_oneof![Just("aws4_request".to_owned()), ".{0,6}"],
            prop_oneof![Just("host;x-amz-date".to_owned()), "[a-zA-Z;-]{0,20}"],
            "[0-9a-f=, ]{0,70}",
        )
            .prop_map(|(a, d, r, s, t, h, g)| format!(
                "AWS4-HMAC-SHA256 Credential={a}/{d}/{r}/{s}/{t}, SignedHeaders={h}, \
                 Signature={g}"
            )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_authorization_never_panics(value in authorization_strategy()) {
        let _ = parse_authorization(&value);
    }

    #[test]
    fn verify_never_panics(
        method in ".{0,8}",
        path in ".{0,40}",
        query in ".{0,40}",
        headers in header_strategy(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        auth in authorization_strategy(),
        signed in proptest::collection::vec("[a-zA-Z0-9 -]{0,12}", 0..5),
        secret in ".{0,20}",
    ) {
        if let Ok(auth) = parse_authorization(&auth) {
            let _ = verify(&method, &path, &query, &headers, &body, &auth, &secret);
        }
        // Also with fields a parser would never produce.
        let raw = Authorization {
            access_key_id: secret.clone(),
            date: method.clone(),
            region: path.clone(),
            service: query.clone(),
            signed_headers: signed,
            signature: secret.clone(),
        };
        let _ = verify(&method, &path, &query, &headers, &body, &raw, &secret);
        let _ = canonical_request(&method, &path, &query, &headers, &raw.signed_headers, "");
        let _ = Signer { access_key_id: "a", secret_key: &secret, region: "r", service: "s" }
            .authorization(&method, &path, &query, &headers, &body);
    }
}
