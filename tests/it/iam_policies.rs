//! IAM role policies (stored, not enforced), through the real CLI and boto3. Error texts are AWS's, each quoted where a public report shows it.

use crate::common::{BOTO3_PRELUDE, TestServer};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

#[test]
fn iam_role_policies_are_stored_listed_and_block_delete_role() {
    let server = TestServer::start();
    let iam = |args: &[&str]| {
        let mut all = vec!["iam"];
        all.extend_from_slice(args);
        server.aws(&all)
    };
    assert!(
        iam(&[
            "create-role",
            "--role-name",
            "web",
            "--assume-role-policy-document",
            TRUST
        ])
        .ok
    );
    assert!(
        iam(&[
            "put-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "s3-read",
            "--policy-document",
            S3_READ
        ])
        .ok
    );
    // The CLI decodes the percent-encoded document back into JSON.
    let got = iam(&[
        "get-role-policy",
        "--role-name",
        "web",
        "--policy-name",
        "s3-read",
    ])
    .json();
    assert_eq!(got["RoleName"], "web");
    assert_eq!(
        got["PolicyDocument"]["Statement"][0]["Action"],
        "s3:GetObject"
    );
    assert_eq!(
        iam(&["list-role-policies", "--role-name", "web"]).json()["PolicyNames"],
        serde_json::json!(["s3-read"])
    );
    for arn in [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
    ] {
        assert!(
            iam(&[
                "attach-role-policy",
                "--role-name",
                "web",
                "--policy-arn",
                arn
            ])
            .ok
        );
    }
    let attached = iam(&["list-attached-role-policies", "--role-name", "web"]).json();
    assert_eq!(
        attached["AttachedPolicies"][1],
        serde_json::json!({"PolicyName": "AmazonEC2RoleforSSM",
            "PolicyArn": "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"})
    );
    let by_path = iam(&[
        "list-attached-role-policies",
        "--role-name",
        "web",
        "--path-prefix",
        "/service-role/",
    ])
    .json();
    assert_eq!(by_path["AttachedPolicies"].as_array().unwrap().len(), 1);

    // DeleteRole: attached policies first, then inline ones (AWS's two messages, quoted in
    // hashicorp/boundary#5646 and cloud-custodian#6109).
    let conflict = iam(&["delete-role", "--role-name", "web"]);
    assert_eq!(conflict.error_code(), "DeleteConflict");
    assert!(
        conflict
            .stderr
            .contains("Cannot delete entity, must detach all policies first.")
    );
    for arn in [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
    ] {
        assert!(
            iam(&[
                "detach-role-policy",
                "--role-name",
                "web",
                "--policy-arn",
                arn
            ])
            .ok
        );
    }
    let conflict = iam(&["delete-role", "--role-name", "web"]);
    assert!(
        conflict
            .stderr
            .contains("Cannot delete entity, must delete policies first."),
        "{}",
        conflict.stderr
    );
    assert!(
        iam(&[
            "delete-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "s3-read"
        ])
        .ok
    );
    assert!(iam(&["delete-role", "--role-name", "web"]).ok);
}

#[test]
fn iam_role_policy_errors_are_aws_s() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         iam = client('iam')\n\
         iam.create_role(RoleName='web', AssumeRolePolicyDocument='{TRUST}')\n\
         doc = '{S3_READ}'\n\
         out = {{\n\
           'no_policy': err(iam, lambda: iam.get_role_policy(RoleName='web', PolicyName='nope')),\n\
           'delete_no_policy': err(iam, lambda: iam.delete_role_policy(RoleName='web', PolicyName='AWSLambdaBasicExecutionRole')),\n\
           'no_role': err(iam, lambda: iam.put_role_policy(RoleName='ghost', PolicyName='p', PolicyDocument=doc)),\n\
           'bad_json': err(iam, lambda: iam.put_role_policy(RoleName='web', PolicyName='p', PolicyDocument='{{nope')),\n\
           'bad_arn': err(iam, lambda: iam.attach_role_policy(RoleName='web', PolicyArn='arn:aws:iam::000000000000:role/web')),\n\
           'other_account': err(iam, lambda: iam.attach_role_policy(RoleName='web', PolicyArn='arn:aws:iam::111111111111:policy/policy-name')),\n\
           'not_attached': err(iam, lambda: iam.detach_role_policy(RoleName='web', PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')),\n\
         }}\n\
         for n in range(10):\n\
         \x20   iam.attach_role_policy(RoleName='web', PolicyArn=f'arn:aws:iam::aws:policy/P{{n}}')\n\
         iam.attach_role_policy(RoleName='web', PolicyArn='arn:aws:iam::aws:policy/P0')\n\
         out['eleventh'] = err(iam, lambda: iam.attach_role_policy(RoleName='web', PolicyArn='arn:aws:iam::aws:policy/P10'))\n\
         out['big'] = err(iam, lambda: iam.put_role_policy(RoleName='web', PolicyName='big', PolicyDocument='{{\"a\": \"' + 'x' * 10300 + '\"}}'))\n\
         out['listed'] = len(iam.list_attached_role_policies(RoleName='web')['AttachedPolicies'])\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    let check = |key: &str, code: &str, message: &str| {
        assert_eq!(out[key]["code"], code, "{key}: {out}");
        assert_eq!(out[key]["message"], message, "{key}: {out}");
        assert!(
            !out[key]["modelled"].as_array().unwrap().is_empty(),
            "{key}: {out}"
        );
    };
    // aws/aws-cli#6139 quotes the DeleteRolePolicy answer.
    check(
        "no_policy",
        "NoSuchEntity",
        "The role policy with name nope cannot be found.",
    );
    check(
        "delete_no_policy",
        "NoSuchEntity",
        "The role policy with name AWSLambdaBasicExecutionRole cannot be found.",
    );
    check(
        "no_role",
        "NoSuchEntity",
        "The role with name ghost cannot be found.",
    );
    check(
        "bad_json",
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
    );
    // boto/boto#2960 quotes the InvalidInput answer to a role ARN given as a policy ARN.
    check(
        "bad_arn",
        "InvalidInput",
        "ARN arn:aws:iam::000000000000:role/web is not valid.",
    );
    // getmoto/moto#6482 quotes AWS's answer to a policy that does not exist.
    check(
        "other_account",
        "NoSuchEntity",
        "Policy arn:aws:iam::111111111111:policy/policy-name does not exist or is not attachable.",
    );
    check(
        "not_attached",
        "NoSuchEntity",
        "Policy arn:aws:iam::aws:policy/ReadOnlyAccess was not found.",
    );
    check(
        "eleventh",
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    );
    check(
        "big",
        "LimitExceeded",
        "Maximum policy size of 10240 bytes exceeded for role web",
    );
    assert_eq!(out["listed"], 10);
}
