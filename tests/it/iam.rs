//! IAM through the real CLI and boto3: roles with trust policies, instance profiles that
//! RunInstances and CreateLaunchConfiguration check, and users whose access keys verify.

use updraft::Config;
use updraft::config::Credentials;

use crate::common::{BOTO3_PRELUDE, TestServer};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[test]
fn iam_roles_and_instance_profiles_through_the_cli() {
    let server = TestServer::start();
    let role = server
        .aws(&[
            "iam",
            "create-role",
            "--role-name",
            "ExampleEC2Role",
            "--assume-role-policy-document",
            TRUST,
        ])
        .json();
    assert_eq!(
        role["Role"]["Arn"],
        "arn:aws:iam::000000000000:role/ExampleEC2Role"
    );
    assert!(role["Role"]["RoleId"].as_str().unwrap().starts_with("AROA"));
    // The CLI decodes IAM's URL-encoded policy documents back into JSON.
    let got = server
        .aws(&["iam", "get-role", "--role-name", "ExampleEC2Role"])
        .json();
    assert_eq!(
        got["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    assert_eq!(got["Role"]["MaxSessionDuration"], 3600);
    let again = server.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "exampleec2role",
        "--assume-role-policy-document",
        TRUST,
    ]);
    assert_eq!(again.error_code(), "EntityAlreadyExists");
    let bad_json = server.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "r2",
        "--assume-role-policy-document",
        "{not json",
    ]);
    assert_eq!(bad_json.error_code(), "MalformedPolicyDocument");
    assert_eq!(
        server
            .aws(&["iam", "get-role", "--role-name", "nope"])
            .error_code(),
        "NoSuchEntity"
    );

    let profile = server
        .aws(&[
            "iam",
            "create-instance-profile",
            "--instance-profile-name",
            "ExampleEC2Role",
        ])
        .json();
    assert!(
        profile["InstanceProfile"]["InstanceProfileId"]
            .as_str()
            .unwrap()
            .starts_with("AIPA")
    );
    let add = |role: &str| {
        server.aws(&[
            "iam",
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "ExampleEC2Role",
            "--role-name",
            role,
        ])
    };
    assert!(add("ExampleEC2Role").ok);
    assert_eq!(add("ExampleEC2Role").error_code(), "LimitExceeded");
    let for_role = server
        .aws(&[
            "iam",
            "list-instance-profiles-for-role",
            "--role-name",
            "ExampleEC2Role",
        ])
        .json();
    assert_eq!(
        for_role["InstanceProfiles"][0]["Roles"][0]["RoleName"],
        "ExampleEC2Role"
    );
    let conflict = server.aws(&["iam", "delete-role", "--role-name", "ExampleEC2Role"]);
    assert_eq!(conflict.error_code(), "DeleteConflict");
    assert!(
        server
            .aws(&[
                "iam",
                "remove-role-from-instance-profile",
                "--instance-profile-name",
                "ExampleEC2Role",
                "--role-name",
                "ExampleEC2Role",
            ])
            .ok
    );
    assert!(
        server
            .aws(&["iam", "delete-role", "--role-name", "ExampleEC2Role"])
            .ok
    );
    assert_eq!(
        server.aws(&["iam", "list-roles"]).json()["Roles"],
        serde_json::json!([])
    );
    assert_eq!(
        server.aws(&["iam", "list-instance-profiles"]).json()["InstanceProfiles"][0]["InstanceProfileName"],
        "ExampleEC2Role"
    );
}

#[test]
fn iam_instance_profiles_are_checked_by_run_instances_and_launch_configurations() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         iam = client('iam')\n\
         ec2 = client('ec2', region='ap-northeast-2')\n\
         asg = client('autoscaling', region='ap-northeast-2')\n\
         ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         def run(**profile):\n\
         \x20   return ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1, IamInstanceProfile=profile)['Instances'][0]\n\
         out = {{'before': err(ec2, lambda: run(Name='ExampleEC2Role')),\n\
           'before_arn': err(ec2, lambda: run(Arn='arn:aws:iam::000000000000:instance-profile/ExampleEC2Role')),\n\
           'lc_before': err(asg, lambda: asg.create_launch_configuration(LaunchConfigurationName='lc', ImageId=ami, InstanceType='t3.micro', IamInstanceProfile='ExampleEC2Role'))}}\n\
         p = iam.create_instance_profile(InstanceProfileName='ExampleEC2Role')['InstanceProfile']\n\
         i = run(Name='ExampleEC2Role')\n\
         out['profile_arn'] = p['Arn']\n\
         out['launched'] = ec2.describe_instances(InstanceIds=[i['InstanceId']])['Reservations'][0]['Instances'][0]['IamInstanceProfile']['Arn']\n\
         out['by_arn'] = run(Arn=p['Arn'])['IamInstanceProfile']['Arn']\n\
         asg.create_launch_configuration(LaunchConfigurationName='lc', ImageId=ami, InstanceType='t3.micro', IamInstanceProfile='ExampleEC2Role')\n\
         out['lc'] = asg.describe_launch_configurations(LaunchConfigurationNames=['lc'])['LaunchConfigurations'][0]['IamInstanceProfile']\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["before"]["code"], "InvalidParameterValue");
    assert_eq!(
        out["before"]["message"],
        "Value (ExampleEC2Role) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    );
    assert_eq!(
        out["before_arn"]["message"],
        "Value (arn:aws:iam::000000000000:instance-profile/ExampleEC2Role) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
    );
    assert_eq!(out["lc_before"]["code"], "ValidationError");
    assert_eq!(out["launched"], out["profile_arn"]);
    assert_eq!(out["by_arn"], out["profile_arn"]);
    assert_eq!(out["lc"], "ExampleEC2Role");
}

#[test]
fn iam_user_access_keys_verify_in_the_users_account() {
    let server = TestServer::with_config(Config {
        verify_signatures: true,
        credentials: Credentials(vec![("123456789012".into(), "root-secret".into())]),
        ..Config::default()
    });
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         iam = client('iam', key='123456789012', secret='root-secret')\n\
         iam.create_user(UserName='alice')\n\
         k = iam.create_access_key(UserName='alice')['AccessKey']\n\
         alice = client('sts', key=k['AccessKeyId'], secret=k['SecretAccessKey'])\n\
         me = alice.get_caller_identity()\n\
         alice_iam = client('iam', key=k['AccessKeyId'], secret=k['SecretAccessKey'])\n\
         out = {{'key': k['AccessKeyId'], 'arn': me['Arn'], 'account': me['Account'], 'user_id': me['UserId'],\n\
           'self': alice_iam.get_user()['User']['UserName'],\n\
           'listed': [m['AccessKeyId'] for m in iam.list_access_keys(UserName='alice')['AccessKeyMetadata']],\n\
           'delete_user': err(iam, lambda: iam.delete_user(UserName='alice'))}}\n\
         iam.create_role(RoleName='long', AssumeRolePolicyDocument='{{}}', MaxSessionDuration=7200)\n\
         sts = client('sts', key='123456789012', secret='root-secret')\n\
         out['long_session'] = err(sts, lambda: sts.assume_role(RoleArn='arn:aws:iam::123456789012:role/long', RoleSessionName='s1', DurationSeconds=7200))\n\
         iam.delete_access_key(UserName='alice', AccessKeyId=k['AccessKeyId'])\n\
         out['after_delete'] = err(alice, lambda: alice.get_caller_identity())\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    assert!(out["key"].as_str().unwrap().starts_with("AKIA"), "{out}");
    assert_eq!(out["arn"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(out["account"], "123456789012");
    assert!(out["user_id"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(out["self"], "alice");
    assert_eq!(out["listed"][0], out["key"]);
    assert_eq!(out["delete_user"]["code"], "DeleteConflict");
    assert_eq!(
        out["long_session"]["code"],
        serde_json::Value::Null,
        "{out}"
    );
    assert_eq!(out["after_delete"]["code"], "InvalidClientTokenId");
}
