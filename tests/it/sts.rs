//! STS through the real CLI and boto3: who am I, temporary credentials, and those credentials
//! verifying and expiring on the virtual clock under `--verify-signatures`.

use updraft::Config;
use updraft::config::Credentials;

use crate::common::{BOTO3_PRELUDE, TestServer};

#[test]
fn get_caller_identity_answers_for_the_root_of_the_keys_account() {
    let server = TestServer::start();
    let me = server
        .aws_with_env(
            &["sts", "get-caller-identity"],
            &[("AWS_ACCESS_KEY_ID", "123456789012")],
        )
        .json();
    assert_eq!(me["Account"], "123456789012");
    assert_eq!(me["Arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(me["UserId"], "123456789012");
    // Any other key acts in the default account.
    let other = server.aws(&["sts", "get-caller-identity"]).json();
    assert_eq!(other["Account"], "000000000000");
}

#[test]
fn assumed_role_credentials_act_in_the_roles_account() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         sts = client('sts', key='111111111111')\n\
         loose = client('sts', key='111111111111', config=Config(retries={{'max_attempts': 1}}, parameter_validation=False))\n\
         r = sts.assume_role(RoleArn='arn:aws:iam::222222222222:role/team/deployer', RoleSessionName='ci-run', DurationSeconds=900)\n\
         c = r['Credentials']\n\
         as_role = boto3.client('sts', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',\n\
             aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])\n\
         ec2 = boto3.client('ec2', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',\n\
             aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])\n\
         kp = ec2.create_key_pair(KeyName='role-made')\n\
         owner = client('ec2', key='222222222222').describe_key_pairs(KeyNames=['role-made'])['KeyPairs'][0]['KeyName']\n\
         caller = client('ec2', key='111111111111')\n\
         print(json.dumps({{'key': c['AccessKeyId'], 'secret_len': len(c['SecretAccessKey']),\n\
           'expiration': c['Expiration'].isoformat(),\n\
           'user': r['AssumedRoleUser'], 'me': {{k: v for k, v in as_role.get_caller_identity().items() if k != 'ResponseMetadata'}},\n\
           'owner': owner,\n\
           'caller_sees': err(caller, lambda: caller.describe_key_pairs(KeyNames=['role-made'])),\n\
           'long': err(sts, lambda: sts.assume_role(RoleArn='arn:aws:iam::222222222222:role/x', RoleSessionName='s1', DurationSeconds=7200)),\n\
           'short': err(loose, lambda: loose.assume_role(RoleArn='arn:aws:iam::222222222222:role/x', RoleSessionName='s1', DurationSeconds=100)),\n\
           'bad_arn': err(sts, lambda: sts.assume_role(RoleArn='arn:aws:iam::222222222222:user/x', RoleSessionName='s1')),\n\
           'bad_name': err(sts, lambda: sts.assume_role(RoleArn='arn:aws:iam::222222222222:role/x', RoleSessionName='has space')),\n\
           'chained': err(as_role, lambda: as_role.assume_role(RoleArn='arn:aws:iam::222222222222:role/x', RoleSessionName='s2', DurationSeconds=3600)),\n\
           'session_from_session': err(as_role, lambda: as_role.get_session_token()),\n\
           'decode': err(sts, lambda: sts.decode_authorization_message(EncodedMessage='abc'))}}))"
    );
    let out = server.boto3(&script);
    let key = out["key"].as_str().unwrap();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{out}");
    assert_eq!(out["secret_len"], 40);
    assert_eq!(
        out["user"]["Arn"],
        "arn:aws:sts::222222222222:assumed-role/deployer/ci-run"
    );
    let role_id = out["user"]["AssumedRoleId"].as_str().unwrap();
    assert!(
        role_id.starts_with("AROA") && role_id.ends_with(":ci-run"),
        "{out}"
    );
    assert_eq!(out["me"]["Account"], "222222222222");
    assert_eq!(out["me"]["Arn"], out["user"]["Arn"]);
    assert_eq!(out["me"]["UserId"], role_id);
    // What the role's credentials create lives in the role's account, not the caller's.
    assert_eq!(out["owner"], "role-made");
    assert_eq!(out["caller_sees"]["code"], "InvalidKeyPair.NotFound");
    assert_eq!(out["long"]["code"], "ValidationError");
    assert_eq!(
        out["long"]["message"],
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    assert_eq!(
        out["short"]["message"],
        "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    );
    assert_eq!(out["bad_arn"]["message"], "Request ARN is invalid");
    assert_eq!(out["bad_name"]["code"], "ValidationError");
    assert_eq!(out["chained"]["code"], serde_json::Value::Null, "{out}");
    assert_eq!(out["session_from_session"]["code"], "AccessDenied");
    assert_eq!(
        out["decode"]["code"], "InvalidAuthorizationMessageException",
        "{out}"
    );
    assert_eq!(
        out["decode"]["modelled"][0],
        "InvalidAuthorizationMessageException"
    );
}

#[test]
fn temporary_credentials_verify_and_expire_on_the_virtual_clock() {
    let server = TestServer::with_config(Config {
        verify_signatures: true,
        credentials: Credentials(vec![("123456789012".into(), "root-secret".into())]),
        time_scale: 0.0,
        ..Config::default()
    });
    let root = [
        ("AWS_ACCESS_KEY_ID", "123456789012"),
        ("AWS_SECRET_ACCESS_KEY", "root-secret"),
    ];
    let creds = server
        .aws_with_env(
            &[
                "sts",
                "assume-role",
                "--role-arn",
                "arn:aws:iam::123456789012:role/web",
                "--role-session-name",
                "cli",
                "--duration-seconds",
                "900",
            ],
            &root,
        )
        .json()["Credentials"]
        .clone();
    let key = creds["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = creds["SecretAccessKey"].as_str().unwrap().to_owned();
    let token = creds["SessionToken"].as_str().unwrap().to_owned();
    let as_session = |token: &str, secret: &str| {
        server.aws_with_env(
            &["sts", "get-caller-identity"],
            &[
                ("AWS_ACCESS_KEY_ID", key.as_str()),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", token),
            ],
        )
    };
    let me = as_session(&token, &secret).json();
    assert_eq!(
        me["Arn"], "arn:aws:sts::123456789012:assumed-role/web/cli",
        "{me}"
    );
    assert_eq!(
        as_session(&token, "wrong").error_code(),
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        as_session("not-the-token", &secret).error_code(),
        "InvalidClientTokenId"
    );
    // Expiration is on the virtual clock: 900 s later the key is refused.
    let expiration = creds["Expiration"].as_str().unwrap();
    let now = server.state.clock.now_rfc3339();
    assert!(expiration > now.as_str(), "{expiration} vs {now}");
    server.state.clock.advance(899.0);
    assert!(as_session(&token, &secret).ok);
    server.state.clock.advance(2.0);
    let expired = as_session(&token, &secret);
    assert_eq!(expired.error_code(), "ExpiredToken");
    assert!(
        expired
            .stderr
            .contains("The security token included in the request is expired"),
        "{}",
        expired.stderr
    );
    // The root key is unaffected, and GetSessionToken's credentials verify too.
    let session = server
        .aws_with_env(&["sts", "get-session-token"], &root)
        .json()["Credentials"]
        .clone();
    let me = server
        .aws_with_env(
            &["sts", "get-caller-identity"],
            &[
                (
                    "AWS_ACCESS_KEY_ID",
                    session["AccessKeyId"].as_str().unwrap(),
                ),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    session["SecretAccessKey"].as_str().unwrap(),
                ),
                (
                    "AWS_SESSION_TOKEN",
                    session["SessionToken"].as_str().unwrap(),
                ),
            ],
        )
        .json();
    assert_eq!(me["Arn"], "arn:aws:iam::123456789012:root");
}

#[test]
fn web_identity_tokens_are_read_not_verified_and_need_no_signature() {
    let server = TestServer::with_config(Config {
        verify_signatures: true,
        ..Config::default()
    });
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         import base64\n\
         def b64(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')\n\
         token = b64({{'alg': 'RS256'}}) + '.' + b64({{'sub': 'repo:me/app', 'aud': 'sts.amazonaws.com', 'iss': 'https://token.actions.example'}}) + '.sig'\n\
         sts = boto3.client('sts', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1', config=Config(signature_version=botocore.UNSIGNED))\n\
         r = sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::333333333333:role/gha', RoleSessionName='gha', WebIdentityToken=token)\n\
         print(json.dumps({{'sub': r['SubjectFromWebIdentityToken'], 'aud': r['Audience'], 'provider': r['Provider'],\n\
           'arn': r['AssumedRoleUser']['Arn'],\n\
           'garbage': err(sts, lambda: sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::333333333333:role/gha', RoleSessionName='gha', WebIdentityToken='not-a-jwt'))}}))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["sub"], "repo:me/app");
    assert_eq!(out["aud"], "sts.amazonaws.com");
    assert_eq!(out["provider"], "token.actions.example");
    assert_eq!(out["arn"], "arn:aws:sts::333333333333:assumed-role/gha/gha");
    assert_eq!(out["garbage"]["code"], "InvalidIdentityToken");
}

#[test]
fn presigned_urls_of_temporary_credentials_carry_their_session_token() {
    let server = TestServer::with_config(Config {
        verify_signatures: true,
        credentials: Credentials(vec![("123456789012".into(), "root-secret".into())]),
        ..Config::default()
    });
    // botocore puts the session token of temporary credentials into the presigned query
    // string (X-Amz-Security-Token), not into a header.
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         import urllib.request, urllib.error\n\
         def fetch(url):\n\
         \x20   try:\n\
         \x20       with urllib.request.urlopen(url) as r: return r.status\n\
         \x20   except urllib.error.HTTPError as e: return e.code\n\
         root = client('sts', key='123456789012', secret='root-secret')\n\
         c = root.assume_role(RoleArn='arn:aws:iam::123456789012:role/web', RoleSessionName='url')['Credentials']\n\
         ec2 = client('ec2', key=c['AccessKeyId'], secret=c['SecretAccessKey'], aws_session_token=c['SessionToken'])\n\
         url = ec2.generate_presigned_url('describe_regions', Params={{}}, ExpiresIn=300, HttpMethod='GET')\n\
         print(json.dumps({{'has_token': 'X-Amz-Security-Token=' in url, 'ok': fetch(url),\n\
           'other_token': fetch(url.replace('X-Amz-Security-Token=', 'X-Amz-Security-Token=x'))}}))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["has_token"], true, "{out}");
    assert_eq!(out["ok"], 200, "{out}");
    assert_eq!(out["other_token"], 403, "{out}");
}
