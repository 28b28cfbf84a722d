//! SigV4 verification against the official AWS test suite (shipped in the botocore sdist,
//! fetched by `protocol/fetch_vectors.sh`) and against requests the real clients signed
//! (`captures.rs`).

mod captures;

use std::fs;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};
use updraft::protocol::sigv4::{self, SigV4Error};

/// Credentials of the AWS test suite.
const SUITE_ACCESS_KEY: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Cases whose `.sreq` is known to be wrong upstream, and why. For these the `.authz` file
/// (the expected `Authorization` value, which does match `.sts`) is verified instead, and the
/// `.sreq` value must be rejected.
const SUITE_ERRATA: &[(&str, &str)] = &[(
    "get-vanilla-with-session-token",
    "upstream .sreq carries get-vanilla's signature although it also signs \
     x-amz-security-token; .authz has the signature that matches .sts",
)];

/// Cases a server cannot check from the `.sreq` alone, and why. Empty: every case, including
/// `post-sts-header-after` (token added after signing, so simply unsigned), verifies.
const SUITE_SKIPS: &[(&str, &str)] = &[];

/// A request as written in a `.sreq` file or a capture: request line, headers, blank line,
/// body. `\n` line endings; header lines starting with whitespace continue the previous one.
#[derive(Debug)]
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut lines = head.split('\n');
        let request_line = lines.next().ok_or("empty request")?;
        // The target may contain spaces (normalize-path/get-space): method is the first word,
        // the protocol version the last.
        let (method, rest) = request_line.split_once(' ').ok_or("bad request line")?;
        let (target, _version) = rest.rsplit_once(' ').ok_or("bad request line")?;
        let (path, query) = target.split_once('?').unwrap_or((target, ""));

        let mut fields: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // obs-fold: the continuation joins the previous value with a space.
                let (_, value) = fields.last_mut().ok_or("continuation before any header")?;
                value.push(' ');
                value.push_str(line.trim());
            } else {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("bad header line {line:?}"))?;
                fields.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?,
                HeaderValue::from_str(&value).map_err(|e| format!("{name}: {e}"))?,
            );
        }
        Ok(Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.as_bytes().to_vec(),
        })
    }

    fn authorization(&self) -> Result<String, String> {
        let value = self
            .headers
            .get("authorization")
            .ok_or("no Authorization header")?;
        value.to_str().map(str::to_owned).map_err(|e| e.to_string())
    }

    fn verify(&self, auth: &sigv4::Authorization, secret: &str) -> Result<(), SigV4Error> {
        sigv4::verify(
            &self.method,
            &self.path,
            &self.query,
            &self.headers,
            &self.body,
            auth,
            secret,
        )
    }

    /// Canonical request and string to sign, as the verifier computes them.
    fn creq_and_sts(&self, auth: &sigv4::Authorization) -> Result<(String, String), String> {
        let payload = sigv4::payload_hash(&self.headers, &self.body).map_err(|e| e.to_string())?;
        let creq = sigv4::canonical_request(
            &self.method,
            &self.path,
            &self.query,
            &self.headers,
            &auth.signed_headers,
            &payload,
        );
        let date = sigv4::request_date(&self.headers).map_err(|e| e.to_string())?;
        let sts = sigv4::string_to_sign(&date, &auth.scope(), &creq);
        let creq = String::from_utf8(creq).map_err(|e| e.to_string())?;
        Ok((creq, sts))
    }
}

/// Changes one character of a secret, keeping its length.
fn flip(secret: &str, at: usize) -> String {
    secret
        .char_indices()
        .map(|(i, c)| {
            if i == at {
                if c == 'x' { 'y' } else { 'x' }
            } else {
                c
            }
        })
        .collect()
}

/// Every directory `<case>/` holding `<case>.sreq`, up to two levels deep.
fn suite_cases(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if d.join(format!("{name}.sreq")).is_file() {
                out.push(d);
            } else if depth < 2 {
                walk(&d, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, 1, &mut out);
    out
}

fn read(dir: &Path, name: &str, ext: &str) -> Result<String, String> {
    let file = dir.join(format!("{name}.{ext}"));
    fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))
}

/// All checks for one suite case.
fn check_case(dir: &Path, name: &str) -> Result<(), String> {
    let req = RawRequest::parse(&read(dir, name, "sreq")?)?;
    let expected_creq = read(dir, name, "creq")?;
    let expected_sts = read(dir, name, "sts")?;
    let expected_authz = read(dir, name, "authz")?;

    let sreq_authz = req.authorization()?;
    let erratum = SUITE_ERRATA.iter().find(|(n, _)| *n == name);
    let authz = if sreq_authz.trim() == expected_authz.trim() {
        sreq_authz
    } else if erratum.is_some() {
        let stale = sigv4::parse_authorization(&sreq_authz).map_err(|e| e.to_string())?;
        if req.verify(&stale, SUITE_SECRET) != Err(SigV4Error::Mismatch) {
            return Err("the erroneous .sreq signature was not rejected".to_owned());
        }
        expected_authz
    } else {
        return Err(format!(
            ".sreq Authorization {sreq_authz:?} != .authz {expected_authz:?}"
        ));
    };

    let auth = sigv4::parse_authorization(&authz).map_err(|e| format!("parse: {e}"))?;
    if auth.access_key_id != SUITE_ACCESS_KEY
        || auth.date != "20150830"
        || auth.region != "us-east-1"
        || auth.service != "service"
    {
        return Err(format!("unexpected credential scope in {auth:?}"));
    }

    let (creq, sts) = req.creq_and_sts(&auth)?;
    if creq != expected_creq {
        return Err(format!(
            "canonical request:\n{creq}\n--- expected ---\n{expected_creq}"
        ));
    }
    if sts != expected_sts {
        return Err(format!(
            "string to sign:\n{sts}\n--- expected ---\n{expected_sts}"
        ));
    }

    req.verify(&auth, SUITE_SECRET)
        .map_err(|e| format!("verify with the right secret: {e:?}"))?;
    for at in [0, SUITE_SECRET.len() - 1] {
        let wrong = flip(SUITE_SECRET, at);
        if req.verify(&auth, &wrong) != Err(SigV4Error::Mismatch) {
            return Err(format!("secret {wrong:?} was not rejected with Mismatch"));
        }
    }
    // Tampering with what was signed must be caught too.
    let mut tampered = RawRequest::parse(&read(dir, name, "sreq")?)?;
    tampered.method.push('X');
    if tampered.verify(&auth, SUITE_SECRET) != Err(SigV4Error::Mismatch) {
        return Err("changed method was not rejected".to_owned());
    }
    if !req.body.is_empty() {
        let mut tampered = RawRequest::parse(&read(dir, name, "sreq")?)?;
        tampered.body.push(b'!');
        if tampered.verify(&auth, SUITE_SECRET) != Err(SigV4Error::Mismatch) {
            return Err("changed body was not rejected".to_owned());
        }
    }
    Ok(())
}

#[test]
fn aws_sigv4_test_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocol/vectors/aws4_testsuite");
    assert!(
        root.is_dir(),
        "the AWS SigV4 test suite is missing at {}: run `protocol/fetch_vectors.sh` first",
        root.display()
    );
    let cases = suite_cases(&root);
    assert!(
        cases.len() >= 30,
        "only {} SigV4 suite cases found under {}: re-run `protocol/fetch_vectors.sh`",
        cases.len(),
        root.display()
    );

    let (mut passed, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some((_, why)) = SUITE_SKIPS.iter().find(|(n, _)| *n == name) {
            println!("sigv4 suite: skip {name}: {why}");
            skipped += 1;
            continue;
        }
        if let Some((_, why)) = SUITE_ERRATA.iter().find(|(n, _)| *n == name) {
            println!("sigv4 suite: {name} uses .authz instead of .sreq: {why}");
        }
        match check_case(dir, &name) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("sigv4 suite: {passed} passed, {skipped} skipped");
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
