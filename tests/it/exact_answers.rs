//! AWS's exact answers where Updraft's were written from memory: each case cites the public
//! report that quotes the real response.

use crate::common::{BOTO3_PRELUDE, TestServer};

#[test]
fn put_metric_alarm_answers_missing_members_as_aws_does() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         cw = client('cloudwatch')\n\
         base = dict(AlarmName='a', ComparisonOperator='GreaterThanThreshold', EvaluationPeriods=1, Threshold=1.0)\n\
         single = dict(base, MetricName='CPUUtilization', Namespace='AWS/EC2', Statistic='Average', Period=60)\n\
         def drop(d, k):\n\
         \x20   d = dict(d); d.pop(k); return d\n\
         expr = [{{'Id': 'e1', 'Expression': 'SUM(METRICS())', 'ReturnData': True}}]\n\
         stat = [{{'Id': 'm1', 'MetricStat': {{'Metric': {{'Namespace': 'AWS/EC2', 'MetricName': 'CPUUtilization'}}, 'Period': 60, 'Stat': 'Average'}}, 'ReturnData': True}}]\n\
         out = {{\n\
           'no_period': err(cw, lambda: cw.put_metric_alarm(**drop(single, 'Period'))),\n\
           'no_metric': err(cw, lambda: cw.put_metric_alarm(**drop(drop(single, 'MetricName'), 'Statistic'))),\n\
           'no_namespace': err(cw, lambda: cw.put_metric_alarm(**drop(single, 'Namespace'))),\n\
           'expression_only': err(cw, lambda: cw.put_metric_alarm(**base, Metrics=expr)),\n\
           'metrics_and_statistic': err(cw, lambda: cw.put_metric_alarm(**base, Metrics=stat, Statistic='Average')),\n\
           'bad_stat': err(cw, lambda: cw.put_metric_alarm(**base, Metrics=[dict(stat[0], MetricStat=dict(stat[0]['MetricStat'], Stat='Mean'))])),\n\
           'ok': err(cw, lambda: cw.put_metric_alarm(**base, Metrics=stat)),\n\
         }}\n\
         out['alarms'] = [a['AlarmName'] for a in cw.describe_alarms()['MetricAlarms']]\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    let check = |key: &str, message: &str| {
        assert_eq!(out[key]["code"], "ValidationError", "{key}: {out}");
        assert_eq!(out[key]["message"], message, "{key}: {out}");
        assert_eq!(out[key]["status"], 400, "{key}: {out}");
    };
    // hashicorp/terraform-provider-aws#32227: "ValidationError: Period must not be null".
    check("no_period", "Period must not be null");
    // hashicorp/terraform-provider-aws#11105 and aws-cloudformation/cfn-lint#771:
    // "ValidationError: MetricName must not be null".
    check("no_metric", "MetricName must not be null");
    check("no_namespace", "Namespace must not be null");
    // hashicorp/terraform-provider-aws#11011 and aws/aws-cdk#7155: an alarm on an expression
    // alone, without a period, is refused with the same words.
    check("expression_only", "Period must not be null");
    // cloudtools/troposphere#1276: "Statistic should not be set if list of Metrics is set."
    check(
        "metrics_and_statistic",
        "Statistic should not be set if list of Metrics is set.",
    );
    // hashicorp/terraform-provider-aws#19567: a MetricStat's unknown Stat in an alarm is
    // "ValidationError: Invalid metrics list".
    check("bad_stat", "Invalid metrics list");
    assert_eq!(out["ok"]["code"], serde_json::Value::Null, "{out}");
    // Refused requests left nothing behind.
    assert_eq!(out["alarms"], serde_json::json!(["a"]));
}

#[test]
fn instance_profile_checks_answer_in_aws_words() {
    let server = TestServer::start();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         ec2 = client('ec2')\n\
         asg = client('autoscaling')\n\
         iam = client('iam')\n\
         ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         zone = ec2.describe_availability_zones()['AvailabilityZones'][0]['ZoneName']\n\
         ec2.create_launch_template(LaunchTemplateName='web-lt', LaunchTemplateData={{'ImageId': ami, 'InstanceType': 't3.micro', 'IamInstanceProfile': {{'Name': 'scaling-group-profile'}}}})\n\
         group = lambda: asg.create_auto_scaling_group(AutoScalingGroupName='g', MinSize=0, MaxSize=1, AvailabilityZones=[zone], LaunchTemplate={{'LaunchTemplateName': 'web-lt'}})\n\
         out = {{'group': err(asg, group),\n\
           'lc': err(asg, lambda: asg.create_launch_configuration(LaunchConfigurationName='lc', ImageId=ami, InstanceType='t3.micro', IamInstanceProfile='ecs-ec2-role')),\n\
           'profile_name': err(iam, lambda: iam.create_instance_profile(InstanceProfileName='has space'))}}\n\
         out['groups_before'] = len(asg.describe_auto_scaling_groups()['AutoScalingGroups'])\n\
         iam.create_instance_profile(InstanceProfileName='scaling-group-profile')\n\
         out['group_after'] = err(asg, group)\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    // hashicorp/terraform-provider-aws#4769 and aws-samples/amazon-ec2-gitlab-runner#16: a
    // group whose template names a missing profile is refused, EC2's message wrapped.
    assert_eq!(out["group"]["code"], "ValidationError", "{out}");
    assert_eq!(
        out["group"]["message"],
        "You must use a valid fully-formed launch template. Value (scaling-group-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    );
    assert_eq!(out["groups_before"], 0);
    assert_eq!(out["group_after"]["code"], serde_json::Value::Null, "{out}");
    // "Error creating launch configuration: ValidationError: Invalid IamInstanceProfile: …",
    // as Terraform users quote it (hashicorp/terraform#1885, #9474).
    assert_eq!(out["lc"]["code"], "ValidationError");
    assert_eq!(
        out["lc"]["message"],
        "Invalid IamInstanceProfile: ecs-ec2-role"
    );
    // hashicorp/terraform-provider-aws#3087 quotes IAM's sentence for a name outside the
    // pattern (for roleName; instance profiles name their own member).
    assert_eq!(out["profile_name"]["code"], "ValidationError");
    assert_eq!(
        out["profile_name"]["message"],
        "The specified value for instanceProfileName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
    );
}
