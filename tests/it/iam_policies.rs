//! IAM role policies (stored, not enforced) and EC2's instance-profile associations, through
//! the real CLI and boto3. Error texts are AWS's, each quoted where a public report shows it.

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
           'arn_as_name': err(iam, lambda: iam.attach_role_policy(RoleName='arn:aws:iam::000000000000:role/web', PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')),\n\
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
    // shashankprasanna/torchserve-examples#7 quotes this ValidationError word for word.
    assert_eq!(out["arn_as_name"]["code"], "ValidationError");
    assert_eq!(
        out["arn_as_name"]["message"],
        "The specified value for roleName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
    );
    // "LimitExceeded: Cannot exceed quota for PoliciesPerRole:10" (Spectro Cloud's cluster
    // autoscaler docs) and "Maximum policy size of 10240 bytes exceeded for role …"
    // (aws-amplify/amplify-cli#1699).
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

#[test]
fn ec2_instance_profile_associations_follow_the_instance() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         iam = client('iam')\n\
         ec2 = client('ec2')\n\
         web = iam.create_instance_profile(InstanceProfileName='web')['InstanceProfile']\n\
         api = iam.create_instance_profile(InstanceProfileName='api')['InstanceProfile']\n\
         ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         def run(**kw):\n\
         \x20   return ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1, **kw)['Instances'][0]['InstanceId']\n\
         launched = run(IamInstanceProfile={{'Name': 'web'}})\n\
         bare = run()\n\
         def desc(**kw):\n\
         \x20   return ec2.describe_iam_instance_profile_associations(**kw)['IamInstanceProfileAssociations']\n\
         def shown(i):\n\
         \x20   return ec2.describe_instances(InstanceIds=[i])['Reservations'][0]['Instances'][0].get('IamInstanceProfile')\n\
         out = {{'web': web, 'api': api, 'launched': launched, 'bare': bare,\n\
           'listed': desc(), 'shown': shown(launched)}}\n\
         a = ec2.associate_iam_instance_profile(InstanceId=bare, IamInstanceProfile={{'Arn': api['Arn']}})['IamInstanceProfileAssociation']\n\
         out['associated'] = a\n\
         out['again'] = err(ec2, lambda: ec2.associate_iam_instance_profile(InstanceId=bare, IamInstanceProfile={{'Name': 'web'}}))\n\
         out['no_profile'] = err(ec2, lambda: ec2.associate_iam_instance_profile(InstanceId=launched, IamInstanceProfile={{'Name': 'ghost'}}))\n\
         out['by_instance'] = desc(Filters=[{{'Name': 'instance-id', 'Values': [bare]}}])\n\
         r = ec2.replace_iam_instance_profile_association(AssociationId=a['AssociationId'], IamInstanceProfile={{'Name': 'web'}})['IamInstanceProfileAssociation']\n\
         out['replaced'] = r\n\
         out['shown_replaced'] = shown(bare)\n\
         out['old_id'] = err(ec2, lambda: ec2.disassociate_iam_instance_profile(AssociationId=a['AssociationId']))\n\
         out['instance_id'] = err(ec2, lambda: ec2.replace_iam_instance_profile_association(AssociationId=bare, IamInstanceProfile={{'Name': 'web'}}))\n\
         out['gone'] = ec2.disassociate_iam_instance_profile(AssociationId=r['AssociationId'])['IamInstanceProfileAssociation']['State']\n\
         out['shown_gone'] = shown(bare)\n\
         print(json.dumps(out, default=str))"
    );
    let out = server.boto3(&script);
    let (web, api) = (&out["web"], &out["api"]);
    let listed = out["listed"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{out}");
    assert_eq!(listed[0]["InstanceId"], out["launched"]);
    assert_eq!(listed[0]["State"], "associated");
    assert!(
        listed[0]["AssociationId"]
            .as_str()
            .unwrap()
            .starts_with("iip-assoc-")
    );
    assert_eq!(
        listed[0]["IamInstanceProfile"],
        serde_json::json!({"Arn": web["Arn"], "Id": web["InstanceProfileId"]})
    );
    // DescribeInstances shows the profile's own id, not a made-up one.
    assert_eq!(out["shown"]["Id"], web["InstanceProfileId"]);
    assert_eq!(out["associated"]["State"], "associating");
    assert_eq!(
        out["associated"]["IamInstanceProfile"]["Id"],
        api["InstanceProfileId"]
    );
    // aws-samples/one-observability-demo#201 quotes this IncorrectState answer.
    assert_eq!(out["again"]["code"], "IncorrectState");
    assert_eq!(
        out["again"]["message"],
        format!(
            "There is an existing association for instance {}",
            out["bare"].as_str().unwrap()
        )
    );
    assert_eq!(out["no_profile"]["code"], "InvalidParameterValue");
    assert_eq!(out["by_instance"].as_array().unwrap().len(), 1);
    // Replace answers `associating` with a new association id (the API reference's example).
    assert_eq!(out["replaced"]["State"], "associating");
    assert_ne!(
        out["replaced"]["AssociationId"],
        out["associated"]["AssociationId"]
    );
    assert_eq!(out["shown_replaced"]["Arn"], web["Arn"]);
    assert_eq!(out["old_id"]["code"], "InvalidAssociationID.NotFound");
    // aws/aws-cli#2570 quotes the answer to an instance id given as the association id.
    assert_eq!(out["instance_id"]["code"], "InvalidParameterValue");
    assert_eq!(
        out["instance_id"]["message"],
        "Invalid value for associationId."
    );
    assert_eq!(out["gone"], "disassociating");
    assert_eq!(out["shown_gone"], serde_json::Value::Null);
}
