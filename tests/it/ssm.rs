//! SSM Parameter Store through the real CLI and boto3 (awsJson 1.1): versions, labels,
//! SecureString, paging, filters, tags, AWS's public AMI parameters, and `resolve:ssm:` image ids
//! launched through RunInstances and an Auto Scaling group.

use crate::autoscaling_boto3::ASG_PRELUDE;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::{BOTO3_PRELUDE, TestServer};

#[test]
fn ssm_cli_puts_versions_and_reads_parameters() {
    let server = TestServer::start();
    let put = |args: &[&str]| {
        let mut all = vec!["ssm", "put-parameter"];
        all.extend_from_slice(args);
        server.aws(&all)
    };
    let first = put(&[
        "--name",
        "/app/db/host",
        "--value",
        "db1",
        "--type",
        "String",
    ])
    .json();
    assert_eq!(first["Version"], 1);
    assert_eq!(first["Tier"], "Standard");
    let again = put(&[
        "--name",
        "/app/db/host",
        "--value",
        "db2",
        "--type",
        "String",
    ]);
    assert_eq!(again.error_code(), "ParameterAlreadyExists");
    assert!(
        again.stderr.contains(
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
        ),
        "{}",
        again.stderr
    );
    let second = put(&["--name", "/app/db/host", "--value", "db2", "--overwrite"]).json();
    assert_eq!(second["Version"], 2);
    let got = server
        .aws(&["ssm", "get-parameter", "--name", "/app/db/host"])
        .json();
    assert_eq!(got["Parameter"]["Value"], "db2");
    assert_eq!(got["Parameter"]["Type"], "String");
    assert_eq!(got["Parameter"]["DataType"], "text");
    assert_eq!(
        got["Parameter"]["ARN"],
        "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/host"
    );
    let v1 = server
        .aws(&["ssm", "get-parameter", "--name", "/app/db/host:1"])
        .json();
    assert_eq!(v1["Parameter"]["Value"], "db1");
    assert_eq!(v1["Parameter"]["Selector"], ":1");
    assert_eq!(v1["Parameter"]["Name"], "/app/db/host");
    // Labels move between versions and select them.
    let labelled = server
        .aws(&[
            "ssm",
            "label-parameter-version",
            "--name",
            "/app/db/host",
            "--parameter-version",
            "1",
            "--labels",
            "stable",
            "1bad",
        ])
        .json();
    assert_eq!(labelled["InvalidLabels"][0], "1bad");
    assert_eq!(labelled["ParameterVersion"], 1);
    let stable = server
        .aws(&["ssm", "get-parameter", "--name", "/app/db/host:stable"])
        .json();
    assert_eq!(stable["Parameter"]["Value"], "db1");
    let history = server
        .aws(&["ssm", "get-parameter-history", "--name", "/app/db/host"])
        .json();
    let versions: Vec<i64> = history["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(history["Parameters"][0]["Labels"][0], "stable");
    assert_eq!(
        history["Parameters"][0]["LastModifiedUser"],
        "arn:aws:iam::000000000000:root"
    );
    // AWS's errors.
    let missing = server.aws(&["ssm", "get-parameter", "--name", "/app/nope"]);
    assert_eq!(missing.error_code(), "ParameterNotFound");
    let no_version = server.aws(&["ssm", "get-parameter", "--name", "/app/db/host:9"]);
    assert_eq!(no_version.error_code(), "ParameterVersionNotFound");
    assert_eq!(
        put(&["--name", "/new/param", "--value", "x"]).error_code(),
        "ValidationException"
    );
    let reserved = put(&["--name", "/aws/mine", "--value", "x", "--type", "String"]);
    assert_eq!(reserved.error_code(), "ValidationException");
    let bad_name = put(&["--name", "has space", "--value", "x", "--type", "String"]);
    assert!(
        bad_name
            .stderr
            .contains("Parameter name: can't be prefixed with \"ssm\" (case-insensitive)."),
        "{}",
        bad_name.stderr
    );
    assert_eq!(
        server
            .aws(&["ssm", "delete-parameter", "--name", "/app/nope"])
            .error_code(),
        "ParameterNotFound"
    );
    assert!(
        server
            .aws(&["ssm", "delete-parameter", "--name", "/app/db/host"])
            .ok
    );
    assert_eq!(
        server
            .aws(&["ssm", "get-parameter", "--name", "/app/db/host"])
            .error_code(),
        "ParameterNotFound"
    );
}

#[test]
fn ssm_boto3_pages_filters_secures_and_tags() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         ssm = client('ssm')\n\
         sent = []\n\
         ssm.meta.events.register('before-send.ssm.PutParameter', lambda request, **kw: sent.append(request.headers.get('Content-Type')))\n\
         for i in range(25):\n\
         \x20   ssm.put_parameter(Name='/svc/p%02d' % i, Value='v%d' % i, Type='String')\n\
         ssm.put_parameter(Name='/svc/deep/inner', Value='in', Type='StringList', Tags=[{{'Key': 'team', 'Value': 'red'}}])\n\
         ssm.put_parameter(Name='/svc/secret', Value='hunter2', Type='SecureString')\n\
         ssm.put_parameter(Name='/svc/pinned', Value='123', Type='String', AllowedPattern='^[0-9]+$')\n\
         pages = []\n\
         token = None\n\
         while True:\n\
         \x20   kw = {{'Path': '/svc', 'MaxResults': 10}}\n\
         \x20   if token: kw['NextToken'] = token\n\
         \x20   r = ssm.get_parameters_by_path(**kw)\n\
         \x20   pages.append(len(r['Parameters']))\n\
         \x20   token = r.get('NextToken')\n\
         \x20   if not token: break\n\
         paginated = [p['Name'] for page in ssm.get_paginator('get_parameters_by_path').paginate(Path='/svc/', Recursive=True) for p in page['Parameters']]\n\
         secret = ssm.get_parameter(Name='/svc/secret')['Parameter']['Value']\n\
         plain = ssm.get_parameter(Name='/svc/secret', WithDecryption=True)['Parameter']['Value']\n\
         desc = ssm.describe_parameters(ParameterFilters=[{{'Key': 'Type', 'Values': ['SecureString']}}])['Parameters']\n\
         by_tag = ssm.get_parameters_by_path(Path='/svc', Recursive=True, ParameterFilters=[{{'Key': 'tag:team', 'Values': ['red']}}])['Parameters']\n\
         ssm.add_tags_to_resource(ResourceType='Parameter', ResourceId='/svc/p00', Tags=[{{'Key': 'env', 'Value': 'prod'}}])\n\
         ssm.remove_tags_from_resource(ResourceType='Parameter', ResourceId='/svc/deep/inner', TagKeys=['team'])\n\
         got = ssm.get_parameters(Names=['/svc/p01', '/svc/missing'])\n\
         deleted = ssm.delete_parameters(Names=['/svc/p02', '/svc/missing'])\n\
         print(json.dumps({{'content_type': sent[0].decode() if isinstance(sent[0], bytes) else sent[0], 'pages': pages, 'recursive': len(paginated), 'sorted': paginated == sorted(paginated),\n\
           'secret_hidden': secret != 'hunter2', 'plain': plain,\n\
           'desc': [(p['Name'], p['KeyId']) for p in desc],\n\
           'by_tag': [p['Name'] for p in by_tag],\n\
           'tags': ssm.list_tags_for_resource(ResourceType='Parameter', ResourceId='/svc/p00')['TagList'],\n\
           'untagged': ssm.list_tags_for_resource(ResourceType='Parameter', ResourceId='/svc/deep/inner')['TagList'],\n\
           'got': [p['Name'] for p in got['Parameters']], 'invalid': got['InvalidParameters'],\n\
           'deleted': deleted['DeletedParameters'], 'not_deleted': deleted['InvalidParameters'],\n\
           'too_many': err(ssm, lambda: ssm.get_parameters_by_path(Path='/svc', MaxResults=11)),\n\
           'bad_token': err(ssm, lambda: ssm.get_parameters_by_path(Path='/svc', NextToken='nope')),\n\
           'bad_path': err(ssm, lambda: ssm.get_parameters_by_path(Path='svc')),\n\
           'pattern': err(ssm, lambda: ssm.put_parameter(Name='/svc/pinned', Value='abc', Overwrite=True)),\n\
           'tags_and_overwrite': err(ssm, lambda: ssm.put_parameter(Name='/svc/p00', Value='x', Overwrite=True, Tags=[{{'Key': 'a', 'Value': 'b'}}])),\n\
           'tag_missing': err(ssm, lambda: ssm.list_tags_for_resource(ResourceType='Parameter', ResourceId='/nope')),\n\
           'not_found': err(ssm, lambda: ssm.get_parameter(Name='/svc/missing'))}}))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["content_type"], "application/x-amz-json-1.1");
    // 25 + /svc/secret + /svc/pinned one level below /svc: 27 in pages of 10.
    assert_eq!(out["pages"], serde_json::json!([10, 10, 7]), "{out}");
    assert_eq!(out["recursive"], 28);
    assert_eq!(out["sorted"], true);
    assert_eq!(out["secret_hidden"], true);
    assert_eq!(out["plain"], "hunter2");
    assert_eq!(
        out["desc"],
        serde_json::json!([["/svc/secret", "alias/aws/ssm"]])
    );
    assert_eq!(out["by_tag"], serde_json::json!(["/svc/deep/inner"]));
    assert_eq!(
        out["tags"],
        serde_json::json!([{"Key": "env", "Value": "prod"}])
    );
    assert_eq!(out["untagged"], serde_json::json!([]));
    assert_eq!(out["got"], serde_json::json!(["/svc/p01"]));
    assert_eq!(out["invalid"], serde_json::json!(["/svc/missing"]));
    assert_eq!(out["deleted"], serde_json::json!(["/svc/p02"]));
    assert_eq!(out["not_deleted"], serde_json::json!(["/svc/missing"]));
    assert_eq!(out["too_many"]["code"], "ValidationException");
    assert_eq!(
        out["too_many"]["message"],
        "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"
    );
    assert_eq!(out["bad_token"]["code"], "InvalidNextToken");
    assert_eq!(out["bad_token"]["modelled"][0], "InvalidNextToken");
    assert_eq!(out["bad_path"]["code"], "ValidationException");
    assert_eq!(
        out["pattern"]["code"], "ParameterPatternMismatchException",
        "{out}"
    );
    assert_eq!(out["tags_and_overwrite"]["code"], "ValidationException");
    assert_eq!(out["tag_missing"]["code"], "InvalidResourceId");
    assert_eq!(out["not_found"]["code"], "ParameterNotFound");
    assert_eq!(out["not_found"]["modelled"][0], "ParameterNotFound");
    assert_eq!(out["not_found"]["message"], "");
}

#[test]
fn ssm_public_ami_parameters_match_describe_images_in_every_region() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         out = {{}}\n\
         for region in ['us-east-1', 'ap-northeast-2']:\n\
         \x20   ssm = client('ssm', region=region)\n\
         \x20   ec2 = client('ec2', region=region)\n\
         \x20   params = [p for page in ssm.get_paginator('get_parameters_by_path').paginate(Path='/aws/service/ami-amazon-linux-latest', PaginationConfig={{'PageSize': 3}}) for p in page['Parameters']]\n\
         \x20   images = {{i['ImageId']: i for i in ec2.describe_images(ImageIds=sorted({{p['Value'] for p in params}}))['Images']}}\n\
         \x20   out[region] = {{p['Name'].rsplit('/', 1)[1]: [p['Value'], images[p['Value']]['Name'], images[p['Value']]['Architecture']] for p in params}}\n\
         \x20   out[region + '-one'] = ssm.get_parameter(Name='/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64')['Parameter']['ARN']\n\
         out['own_list'] = client('ssm').describe_parameters()['Parameters']\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    let east = &out["us-east-1"];
    let seoul = &out["ap-northeast-2"];
    for alias in [
        "al2023-ami-kernel-default-x86_64",
        "al2023-ami-kernel-6.1-x86_64",
        "al2023-ami-kernel-default-arm64",
        "al2023-ami-kernel-6.1-arm64",
        "amzn2-ami-hvm-x86_64-gp2",
        "amzn2-ami-hvm-arm64-gp2",
    ] {
        assert!(east[alias].is_array(), "{alias}: {out}");
        assert_ne!(east[alias][0], seoul[alias][0], "AMI ids are per region");
        assert_eq!(east[alias][1], seoul[alias][1]);
        let arch = if alias.contains("arm64") {
            "arm64"
        } else {
            "x86_64"
        };
        assert_eq!(east[alias][2], arch, "{alias}");
    }
    assert_eq!(
        east["al2023-ami-kernel-default-x86_64"],
        east["al2023-ami-kernel-6.1-x86_64"]
    );
    assert!(
        east["amzn2-ami-hvm-x86_64-gp2"][1]
            .as_str()
            .unwrap()
            .starts_with("amzn2-ami-hvm-2.0.")
    );
    assert_eq!(
        out["us-east-1-one"],
        "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    );
    assert_eq!(out["own_list"], serde_json::json!([]));
}

#[test]
fn ssm_resolve_image_ids_launch_the_parameters_ami_through_a_group() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n\
         ssm = client('ssm')\n\
         PUBLIC = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'\n\
         want = ssm.get_parameter(Name=PUBLIC)['Parameter']['Value']\n\
         ec2.create_launch_template(LaunchTemplateName='ssm-lt', LaunchTemplateData={{'ImageId': 'resolve:ssm:' + PUBLIC, 'InstanceType': 't3.micro'}})\n\
         stored = ec2.describe_launch_template_versions(LaunchTemplateName='ssm-lt')['LaunchTemplateVersions'][0]['LaunchTemplateData']['ImageId']\n\
         aliased = ec2.describe_launch_template_versions(LaunchTemplateName='ssm-lt', ResolveAlias=True)['LaunchTemplateVersions'][0]['LaunchTemplateData']['ImageId']\n\
         asg.create_auto_scaling_group(AutoScalingGroupName='ssm-g', LaunchTemplate={{'LaunchTemplateName': 'ssm-lt'}}, MinSize=1, MaxSize=1, AvailabilityZones=['us-east-1a'])\n\
         until(lambda: states('ssm-g') == ['InService'])\n\
         iid = describe('ssm-g')['Instances'][0]['InstanceId']\n\
         launched = ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]['ImageId']\n\
         other = ec2.describe_images(Owners=['amazon'], Filters=[{{'Name': 'name', 'Values': ['amzn2-ami-hvm-2.0.*-x86_64-gp2']}}])['Images'][0]['ImageId']\n\
         ssm.put_parameter(Name='/golden/ami', Value=want, Type='String', DataType='aws:ec2:image')\n\
         ssm.put_parameter(Name='/golden/ami', Value=other, Overwrite=True)\n\
         ssm.put_parameter(Name='/golden/text', Value=want, Type='String')\n\
         def run(image):\n\
         \x20   return ec2.run_instances(ImageId=image, InstanceType='t3.micro', MinCount=1, MaxCount=1)['Instances'][0]['ImageId']\n\
         print(json.dumps({{'want': want, 'stored': stored, 'aliased': aliased, 'launched': launched,\n\
           'latest': run('resolve:ssm:/golden/ami') == other, 'v1': run('resolve:ssm:/golden/ami:1') == want,\n\
           'text': err(ec2, lambda: run('resolve:ssm:/golden/text')),\n\
           'missing': err(ec2, lambda: run('resolve:ssm:/golden/none')),\n\
           'lc': err(asg, lambda: asg.create_launch_configuration(LaunchConfigurationName='ssm-lc', ImageId='resolve:ssm:' + PUBLIC, InstanceType='t3.micro'))}}))"
    );
    let out = server.boto3(&script);
    assert!(out["want"].as_str().unwrap().starts_with("ami-"), "{out}");
    assert_eq!(
        out["stored"],
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    );
    assert_eq!(out["aliased"], out["want"], "{out}");
    assert_eq!(out["launched"], out["want"], "{out}");
    assert_eq!(out["latest"], true, "{out}");
    assert_eq!(out["v1"], true, "{out}");
    assert_eq!(out["text"]["code"], "SsmInvalidParameter");
    assert_eq!(out["missing"]["code"], "InvalidParameterValue");
    // AWS's texts as public reports quote them: aws/aws-cdk#26712 (a parameter of another
    // data type), aws/aws-cdk#28090 (a launch configuration takes AMI ids only).
    assert_eq!(
        out["text"]["message"],
        "Unsupported data type. The following parameter data types are supported: aws:ec2:image"
    );
    assert_eq!(out["lc"]["code"], "ValidationError");
    assert_eq!(
        out["lc"]["message"],
        format!(
            "AMI resolve:ssm:{p} is invalid: Invalid id: \"resolve:ssm:{p}\" (expecting \"ami-...\")",
            p = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        )
    );
}
