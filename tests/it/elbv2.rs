//! ELBv2 control plane through boto3 and the aws CLI: load balancers, target groups,
//! listeners, rules, attributes, tags, and AWS's errors for bad input (which change nothing).

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};

/// Python helpers: `elb`/`ec2` clients, two default subnets, a factory of running instances
/// in those subnets' zones, target health readers.
pub const ELBV2_PRELUDE: &str = r#"
elb = client('elbv2')
ec2 = client('ec2')
vpc = ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs'][0]['VpcId']
subnets = sorted(ec2.describe_subnets(Filters=[{'Name': 'default-for-az', 'Values': ['true']}])['Subnets'], key=lambda s: s['AvailabilityZone'])
subnet_ids = [s['SubnetId'] for s in subnets[:2]]
ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
launched = [0]
def instances(n, body=None):
    # Alternate between the load balancers' two zones: instances elsewhere are not used.
    kw = {'SubnetId': subnet_ids[launched[0] % 2]}
    launched[0] += 1
    if body:
        kw['UserData'] = '#!/bin/bash\n# updraft:http-body %s\n' % body
    ids = [i['InstanceId'] for i in ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=n, MaxCount=n, **kw)['Instances']]
    advance(10)
    wait_state(ec2, ids, 'running')
    return ids
def health(tg, targets=None):
    kw = {'Targets': targets} if targets else {}
    r = elb.describe_target_health(TargetGroupArn=tg, **kw)['TargetHealthDescriptions']
    return {d['Target']['Id']: [d['TargetHealth']['State'], d['TargetHealth'].get('Reason'), d['TargetHealth'].get('Description')] for d in r}
def wait_health(tg, want, tries=300):
    for _ in range(tries):
        h = health(tg)
        if all(h.get(i, [None])[0] == s for i, s in want.items()):
            return h
        time.sleep(0.02)
    raise Exception('health never became %s: %s' % (want, health(tg)))
"#;

#[test]
fn elbv2_control_plane_with_aws_defaults() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}\n{}",
        r##"
out = {}
lb = elb.create_load_balancer(Name='web-alb', Subnets=subnet_ids, Tags=[{'Key': 'env', 'Value': 'dev'}])['LoadBalancers'][0]
out['lb'] = {k: lb[k] for k in ['LoadBalancerName', 'Scheme', 'Type', 'IpAddressType', 'VpcId', 'CanonicalHostedZoneId']}
out['lb_state'] = lb['State']['Code']
out['lb_dns'] = lb['DNSName']
out['lb_arn'] = lb['LoadBalancerArn']
out['lb_zones'] = sorted(z['SubnetId'] for z in lb['AvailabilityZones'])
out['lb_sgs'] = len(lb['SecurityGroups'])
out['same_again'] = elb.create_load_balancer(Name='web-alb', Subnets=subnet_ids)['LoadBalancers'][0]['LoadBalancerArn'] == lb['LoadBalancerArn']
advance(31)
out['lb_state_later'] = elb.describe_load_balancers(Names=['web-alb'])['LoadBalancers'][0]['State']['Code']
attrs = {a['Key']: a['Value'] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb['LoadBalancerArn'])['Attributes']}
out['lb_attrs'] = {k: attrs[k] for k in ['idle_timeout.timeout_seconds', 'deletion_protection.enabled', 'routing.http2.enabled', 'load_balancing.cross_zone.enabled', 'routing.http.desync_mitigation_mode']}
out['lb_attr_modify'] = elb.modify_load_balancer_attributes(LoadBalancerArn=lb['LoadBalancerArn'], Attributes=[{'Key': 'idle_timeout.timeout_seconds', 'Value': '120'}])['Attributes']

tg = elb.create_target_group(Name='web-tg', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]
out['tg'] = {k: tg[k] for k in ['Protocol', 'Port', 'HealthCheckProtocol', 'HealthCheckPort', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount', 'Matcher', 'TargetType', 'ProtocolVersion', 'LoadBalancerArns', 'HealthCheckEnabled']}
tga = {a['Key']: a['Value'] for a in elb.describe_target_group_attributes(TargetGroupArn=tg['TargetGroupArn'])['Attributes']}
out['tg_attrs'] = {k: tga[k] for k in ['deregistration_delay.timeout_seconds', 'stickiness.enabled', 'stickiness.type', 'stickiness.lb_cookie.duration_seconds', 'load_balancing.algorithm.type', 'slow_start.duration_seconds']}
elb.modify_target_group_attributes(TargetGroupArn=tg['TargetGroupArn'], Attributes=[
    {'Key': 'stickiness.enabled', 'Value': 'true'}, {'Key': 'load_balancing.algorithm.type', 'Value': 'least_outstanding_requests'}])
tga = {a['Key']: a['Value'] for a in elb.describe_target_group_attributes(TargetGroupArn=tg['TargetGroupArn'])['Attributes']}
out['tg_attrs_after'] = [tga['stickiness.enabled'], tga['load_balancing.algorithm.type']]
tcp = elb.create_target_group(Name='tcp-tg', Protocol='TCP', Port=22, VpcId=vpc)['TargetGroups'][0]
out['tcp_tg'] = [tcp['HealthCheckProtocol'], tcp.get('HealthCheckPath'), tcp['HealthCheckTimeoutSeconds'], 'Matcher' in tcp]
mod = elb.modify_target_group(TargetGroupArn=tg['TargetGroupArn'], HealthCheckPath='/health', Matcher={'HttpCode': '200-299'}, HealthCheckIntervalSeconds=10)['TargetGroups'][0]
out['tg_modified'] = [mod['HealthCheckPath'], mod['Matcher']['HttpCode'], mod['HealthCheckIntervalSeconds']]

listener = elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTP', Port=80,
    DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg['TargetGroupArn']}])['Listeners'][0]
out['listener_actions'] = listener['DefaultActions']
acm = client('acm')
cert_abc = acm.request_certificate(DomainName='abc.example.com')['CertificateArn']
cert_extra = acm.request_certificate(DomainName='extra.example.com', KeyAlgorithm='EC_prime256v1')['CertificateArn']
out['cert_abc'] = cert_abc
https = elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTPS', Port=443,
    Certificates=[{'CertificateArn': cert_abc}],
    DefaultActions=[{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '404', 'ContentType': 'text/plain', 'MessageBody': 'nope'}}])['Listeners'][0]
out['https'] = [https['SslPolicy'], https['Certificates']]
elb.add_listener_certificates(ListenerArn=https['ListenerArn'], Certificates=[{'CertificateArn': cert_extra}])
out['certs'] = elb.describe_listener_certificates(ListenerArn=https['ListenerArn'])['Certificates']
out['listeners'] = [l['Port'] for l in elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners']]
out['tg_lbs'] = elb.describe_target_groups(TargetGroupArns=[tg['TargetGroupArn']])['TargetGroups'][0]['LoadBalancerArns'] == [lb['LoadBalancerArn']]
out['tgs_of_lb'] = [t['TargetGroupName'] for t in elb.describe_target_groups(LoadBalancerArn=lb['LoadBalancerArn'])['TargetGroups']]

r1 = elb.create_rule(ListenerArn=listener['ListenerArn'], Priority=10,
    Conditions=[{'Field': 'path-pattern', 'Values': ['/api/*']}],
    Actions=[{'Type': 'redirect', 'RedirectConfig': {'Protocol': 'HTTPS', 'Port': '443', 'StatusCode': 'HTTP_301'}}])['Rules'][0]
r2 = elb.create_rule(ListenerArn=listener['ListenerArn'], Priority=5,
    Conditions=[{'Field': 'host-header', 'HostHeaderConfig': {'Values': ['*.example.com']}}, {'Field': 'http-request-method', 'HttpRequestMethodConfig': {'Values': ['GET']}}],
    Actions=[{'Type': 'forward', 'ForwardConfig': {'TargetGroups': [{'TargetGroupArn': tg['TargetGroupArn'], 'Weight': 3}]}}])['Rules'][0]
out['r1'] = [r1['Priority'], r1['Conditions'], r1['Actions'][0]['RedirectConfig']]
out['r2_forward'] = r2['Actions'][0]
rules = elb.describe_rules(ListenerArn=listener['ListenerArn'])['Rules']
out['rule_order'] = [(r['Priority'], r['IsDefault']) for r in rules]
elb.set_rule_priorities(RulePriorities=[{'RuleArn': r1['RuleArn'], 'Priority': 1}, {'RuleArn': r2['RuleArn'], 'Priority': 2}])
out['rule_order_after'] = [r['Priority'] for r in elb.describe_rules(ListenerArn=listener['ListenerArn'])['Rules']]
m = elb.modify_rule(RuleArn=r2['RuleArn'], Conditions=[{'Field': 'path-pattern', 'Values': ['/x']}])['Rules'][0]
out['modified_rule'] = m['Conditions']

elb.add_tags(ResourceArns=[tg['TargetGroupArn'], r1['RuleArn']], Tags=[{'Key': 'team', 'Value': 'a'}])
elb.remove_tags(ResourceArns=[lb['LoadBalancerArn']], TagKeys=['env'])
out['tags'] = [[t['Key'] for t in d['Tags']] for d in elb.describe_tags(ResourceArns=[lb['LoadBalancerArn'], tg['TargetGroupArn'], r1['RuleArn']])['TagDescriptions']]
out['ssl'] = [p['Name'] for p in elb.describe_ssl_policies(Names=['ELBSecurityPolicy-2016-08'])['SslPolicies']]
out['limits'] = len(elb.describe_account_limits()['Limits'])
out['trust_stores'] = elb.describe_trust_stores()['TrustStores']

elb.delete_rule(RuleArn=r1['RuleArn'])
elb.delete_listener(ListenerArn=https['ListenerArn'])
elb.delete_load_balancer(LoadBalancerArn=lb['LoadBalancerArn'])
out['lbs_after_delete'] = elb.describe_load_balancers()['LoadBalancers']
elb.delete_target_group(TargetGroupArn=tg['TargetGroupArn'])
out['tgs_after_delete'] = [t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']]
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(
        out["lb"],
        json!({"LoadBalancerName": "web-alb", "Scheme": "internet-facing", "Type": "application",
            "IpAddressType": "ipv4", "VpcId": out["lb"]["VpcId"], "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K"})
    );
    assert_eq!(out["lb_state"], "provisioning");
    assert_eq!(out["lb_state_later"], "active");
    let dns = out["lb_dns"].as_str().unwrap();
    assert!(
        dns.starts_with("web-alb-") && dns.ends_with(".us-east-1.elb.localhost"),
        "{dns}"
    );
    let arn = out["lb_arn"].as_str().unwrap();
    assert!(
        arn.starts_with(
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web-alb/"
        ),
        "{arn}"
    );
    assert_eq!(out["lb_zones"].as_array().unwrap().len(), 2);
    assert_eq!(out["lb_sgs"], 1, "the VPC's default group");
    assert_eq!(out["same_again"], true);
    assert_eq!(
        out["lb_attrs"],
        json!({"idle_timeout.timeout_seconds": "60", "deletion_protection.enabled": "false",
            "routing.http2.enabled": "true", "load_balancing.cross_zone.enabled": "true",
            "routing.http.desync_mitigation_mode": "defensive"})
    );
    assert_eq!(
        out["lb_attr_modify"],
        json!([{"Key": "idle_timeout.timeout_seconds", "Value": "120"}])
    );
    assert_eq!(
        out["tg"],
        json!({"Protocol": "HTTP", "Port": 80, "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
            "HealthCheckPath": "/", "HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200"},
            "TargetType": "instance", "ProtocolVersion": "HTTP1", "LoadBalancerArns": [], "HealthCheckEnabled": true})
    );
    assert_eq!(
        out["tg_attrs"],
        json!({"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false",
            "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
            "load_balancing.algorithm.type": "round_robin", "slow_start.duration_seconds": "0"})
    );
    assert_eq!(
        out["tg_attrs_after"],
        json!(["true", "least_outstanding_requests"])
    );
    assert_eq!(out["tcp_tg"], json!(["TCP", null, 10, false]));
    assert_eq!(out["tg_modified"], json!(["/health", "200-299", 10]));
    let tg_arn = out["listener_actions"][0]["TargetGroupArn"].clone();
    assert_eq!(
        out["listener_actions"],
        json!([{"Type": "forward", "TargetGroupArn": tg_arn, "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": false}}}])
    );
    assert_eq!(
        out["https"],
        json!(["ELBSecurityPolicy-2016-08", [{"CertificateArn": out["cert_abc"]}]])
    );
    assert_eq!(out["certs"].as_array().unwrap().len(), 2);
    assert_eq!(out["certs"][0]["IsDefault"], true);
    assert_eq!(out["listeners"], json!([80, 443]));
    assert_eq!(out["tg_lbs"], true);
    assert_eq!(out["tgs_of_lb"], json!(["web-tg"]));
    assert_eq!(out["r1"][0], "10");
    assert_eq!(
        out["r1"][1],
        json!([{"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}}])
    );
    assert_eq!(
        out["r1"][2],
        json!({"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"})
    );
    assert_eq!(
        out["r2_forward"]["ForwardConfig"]["TargetGroups"][0]["Weight"],
        3
    );
    assert_eq!(out["r2_forward"]["TargetGroupArn"], tg_arn);
    assert_eq!(
        out["rule_order"],
        json!([["5", false], ["10", false], ["default", true]])
    );
    assert_eq!(out["rule_order_after"], json!(["1", "2", "default"]));
    assert_eq!(out["modified_rule"][0]["Values"], json!(["/x"]));
    assert_eq!(out["tags"], json!([[], ["team"], ["team"]]));
    assert_eq!(out["ssl"], json!(["ELBSecurityPolicy-2016-08"]));
    assert!(out["limits"].as_u64().unwrap() > 10);
    assert_eq!(out["trust_stores"], json!([]));
    assert_eq!(out["lbs_after_delete"], json!([]));
    assert_eq!(out["tgs_after_delete"], json!(["tcp-tg"]));
}

#[test]
fn elbv2_errors_are_aws_shaped_and_change_nothing() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}\n{}",
        r##"
out = {}
def e(name, fn):
    r = err(elb, fn)
    out[name] = [r['code'], r.get('message'), r.get('status')]
lb = elb.create_load_balancer(Name='alb1', Subnets=subnet_ids)['LoadBalancers'][0]['LoadBalancerArn']
tg = elb.create_target_group(Name='tg1', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
tg2 = elb.create_target_group(Name='tg2', Protocol='HTTP', Port=8080, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
listener = elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])['Listeners'][0]['ListenerArn']
rule = elb.create_rule(ListenerArn=listener, Priority=7, Conditions=[{'Field': 'path-pattern', 'Values': ['/a']}], Actions=[{'Type': 'forward', 'TargetGroupArn': tg2}])['Rules'][0]['RuleArn']
bogus = lb.replace('alb1', 'nope')
e('dup_lb', lambda: elb.create_load_balancer(Name='alb1', Subnets=subnet_ids, Scheme='internal'))
e('dup_tg', lambda: elb.create_target_group(Name='tg1', Protocol='HTTP', Port=81, VpcId=vpc))
e('one_subnet', lambda: elb.create_load_balancer(Name='alb2', Subnets=subnet_ids[:1]))
e('bad_subnet', lambda: elb.create_load_balancer(Name='alb2', Subnets=['subnet-0123456789abcdef0', subnet_ids[0]]))
e('bad_name', lambda: elb.create_load_balancer(Name='-bad', Subnets=subnet_ids))
e('lb_not_found', lambda: elb.describe_load_balancers(LoadBalancerArns=[bogus]))
e('lb_name_not_found', lambda: elb.describe_load_balancers(Names=['missing']))
e('lb_arn_other_region', lambda: elb.describe_load_balancers(LoadBalancerArns=[lb.replace('us-east-1', 'eu-west-1')]))
e('tg_arn_malformed', lambda: elb.describe_target_health(TargetGroupArn='arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/'))
e('tg_not_found', lambda: elb.describe_target_groups(TargetGroupArns=[tg.replace('tg1', 'zz')]))
e('tg_too_many', lambda: elb.describe_target_groups(TargetGroupArns=[tg] * 21))
e('tg_in_use', lambda: elb.delete_target_group(TargetGroupArn=tg))
e('dup_listener', lambda: elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}]))
e('listener_unknown_tg', lambda: elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=81, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg.replace('tg1', 'zz')}]))
e('listener_tcp_on_alb', lambda: elb.create_listener(LoadBalancerArn=lb, Protocol='TCP', Port=82, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}]))
e('https_no_cert', lambda: elb.create_listener(LoadBalancerArn=lb, Protocol='HTTPS', Port=443, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}]))
e('listener_not_found', lambda: elb.describe_listeners(ListenerArns=[listener + '0']))
e('priority_in_use', lambda: elb.create_rule(ListenerArn=listener, Priority=7, Conditions=[{'Field': 'path-pattern', 'Values': ['/b']}], Actions=[{'Type': 'forward', 'TargetGroupArn': tg}]))
e('bad_field', lambda: elb.create_rule(ListenerArn=listener, Priority=8, Conditions=[{'Field': 'cookie', 'Values': ['x']}], Actions=[{'Type': 'forward', 'TargetGroupArn': tg}]))
e('bad_fixed', lambda: elb.create_rule(ListenerArn=listener, Priority=8, Conditions=[{'Field': 'path-pattern', 'Values': ['/c']}], Actions=[{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '302'}}]))
e('oidc', lambda: elb.create_rule(ListenerArn=listener, Priority=8, Conditions=[{'Field': 'path-pattern', 'Values': ['/c']}], Actions=[{'Type': 'authenticate-oidc', 'AuthenticateOidcConfig': {'Issuer': 'i', 'AuthorizationEndpoint': 'a', 'TokenEndpoint': 't', 'UserInfoEndpoint': 'u', 'ClientId': 'c'}}]))
e('rule_not_found', lambda: elb.describe_rules(RuleArns=[rule + '0']))
default_rule = [r['RuleArn'] for r in elb.describe_rules(ListenerArn=listener)['Rules'] if r['IsDefault']][0]
e('delete_default_rule', lambda: elb.delete_rule(RuleArn=default_rule))
elb.create_rule(ListenerArn=listener, Priority=9, Conditions=[{'Field': 'path-pattern', 'Values': ['/z']}], Actions=[{'Type': 'forward', 'TargetGroupArn': tg2}])
e('priorities_clash', lambda: elb.set_rule_priorities(RulePriorities=[{'RuleArn': rule, 'Priority': 9}]))
e('bad_attr', lambda: elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{'Key': 'deregistration_delay.timeout_seconds', 'Value': '4000'}]))
e('unknown_attr', lambda: elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[{'Key': 'nope', 'Value': '1'}]))
e('bad_interval', lambda: elb.create_target_group(Name='tg3', Protocol='HTTP', Port=80, VpcId=vpc, HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=6))
e('bad_matcher', lambda: elb.create_target_group(Name='tg3', Protocol='HTTP', Port=80, VpcId=vpc, Matcher={'HttpCode': '600'}))
stopped = instances(1)[0]
ec2.stop_instances(InstanceIds=[stopped])
advance(5)
wait_state(ec2, [stopped], 'stopped')
e('register_stopped', lambda: elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': stopped}]))
e('register_unknown_tg', lambda: elb.register_targets(TargetGroupArn=tg.replace('tg1', 'zz'), Targets=[{'Id': stopped}]))
e('tags_unknown', lambda: elb.add_tags(ResourceArns=[bogus], Tags=[{'Key': 'a', 'Value': 'b'}]))
e('trust_store', lambda: elb.create_trust_store(Name='ts', CaCertificatesBundleS3Bucket='b', CaCertificatesBundleS3Key='k'))
elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[{'Key': 'deletion_protection.enabled', 'Value': 'true'}])
e('protected', lambda: elb.delete_load_balancer(LoadBalancerArn=lb))
out['lbs'] = [l['LoadBalancerName'] for l in elb.describe_load_balancers()['LoadBalancers']]
out['tgs'] = [t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']]
out['rules'] = [r['Priority'] for r in elb.describe_rules(ListenerArn=listener)['Rules']]
out['targets'] = elb.describe_target_health(TargetGroupArn=tg)['TargetHealthDescriptions']
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let code = |k: &str| out[k][0].as_str().unwrap_or("none").to_owned();
    let msg = |k: &str| out[k][1].as_str().unwrap_or("").to_owned();
    assert_eq!(code("dup_lb"), "DuplicateLoadBalancerName");
    assert_eq!(
        msg("dup_lb"),
        "A load balancer with the same name 'alb1' exists, but with different settings"
    );
    assert_eq!(code("dup_tg"), "DuplicateTargetGroupName");
    assert_eq!(
        msg("dup_tg"),
        "A target group with the same name 'tg1' exists, but with different settings"
    );
    assert_eq!(code("one_subnet"), "ValidationError");
    assert_eq!(
        msg("one_subnet"),
        "At least two subnets in two different Availability Zones must be specified"
    );
    assert_eq!(code("bad_subnet"), "SubnetNotFound");
    assert_eq!(code("bad_name"), "ValidationError");
    assert_eq!(code("lb_not_found"), "LoadBalancerNotFound");
    assert_eq!(msg("lb_not_found"), "One or more load balancers not found");
    assert_eq!(
        msg("lb_name_not_found"),
        "Load balancers '[missing]' not found"
    );
    assert_eq!(code("tg_not_found"), "TargetGroupNotFound");
    assert_eq!(msg("tg_not_found"), "One or more target groups not found");
    assert_eq!(
        msg("tg_too_many"),
        "You cannot describe more than '20' target groups at a time"
    );
    assert_eq!(code("tg_in_use"), "ResourceInUse");
    assert!(msg("tg_in_use").ends_with("' is currently in use by a listener or a rule"));
    assert_eq!(code("dup_listener"), "DuplicateListener");
    assert_eq!(code("listener_unknown_tg"), "TargetGroupNotFound");
    assert_eq!(code("listener_tcp_on_alb"), "UnsupportedProtocol");
    assert_eq!(code("https_no_cert"), "ValidationError");
    assert_eq!(code("listener_not_found"), "ListenerNotFound");
    assert_eq!(code("priority_in_use"), "PriorityInUse");
    assert_eq!(msg("priority_in_use"), "Priority '7' is currently in use");
    assert_eq!(code("bad_field"), "ValidationError");
    assert_eq!(code("bad_fixed"), "ValidationError");
    assert_eq!(code("oidc"), "InvalidLoadBalancerAction");
    assert_eq!(code("rule_not_found"), "RuleNotFound");
    assert_eq!(code("delete_default_rule"), "OperationNotPermitted");
    assert_eq!(code("priorities_clash"), "PriorityInUse");
    assert_eq!(code("bad_attr"), "InvalidConfigurationRequest");
    assert_eq!(code("unknown_attr"), "InvalidConfigurationRequest");
    assert_eq!(code("bad_interval"), "InvalidConfigurationRequest");
    assert_eq!(code("bad_matcher"), "ValidationError");
    assert_eq!(code("register_stopped"), "InvalidTarget");
    assert!(msg("register_stopped").starts_with(
        "The following targets are not in a running state and cannot be registered: 'i-"
    ));
    assert_eq!(code("register_unknown_tg"), "TargetGroupNotFound");
    assert_eq!(code("tags_unknown"), "LoadBalancerNotFound");
    assert_eq!(code("trust_store"), "CaCertificatesBundleNotFound");
    assert_eq!(code("protected"), "OperationNotPermitted");
    for k in ["dup_lb", "priority_in_use", "tg_in_use", "protected"] {
        assert_eq!(out[k][2], 400, "{k}");
    }
    // Nothing the failed calls tried exists.
    assert_eq!(out["lbs"], json!(["alb1"]));
    assert_eq!(out["tgs"], json!(["tg1", "tg2"]));
    assert_eq!(out["rules"], json!(["7", "9", "default"]));
    assert_eq!(out["targets"], json!([]));
}

#[test]
fn elbv2_through_the_aws_cli() {
    let server = frozen_server();
    let vpc = server
        .aws(&[
            "ec2",
            "describe-vpcs",
            "--filters",
            "Name=is-default,Values=true",
        ])
        .json()["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subnets = server
        .aws(&[
            "ec2",
            "describe-subnets",
            "--filters",
            "Name=default-for-az,Values=true",
        ])
        .json();
    let ids: Vec<String> = subnets["Subnets"].as_array().unwrap()[..2]
        .iter()
        .map(|s| s["SubnetId"].as_str().unwrap().to_owned())
        .collect();
    let lb = server.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        "cli-alb",
        "--subnets",
        &ids[0],
        &ids[1],
    ]);
    assert!(lb.ok, "{lb:?}");
    let lb_arn = lb.json()["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let tg = server.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        "cli-tg",
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--vpc-id",
        &vpc,
        "--health-check-path",
        "/index.html",
    ]);
    let tg_arn = tg.json()["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let listener = server.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb_arn,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg_arn}"),
    ]);
    assert!(listener.ok, "{listener:?}");
    let health = server.aws(&[
        "elbv2",
        "describe-target-health",
        "--target-group-arn",
        &tg_arn,
        "--targets",
        "Id=i-0123456789abcdef0,Port=80",
    ]);
    assert_eq!(
        health.json()["TargetHealthDescriptions"],
        json!([{"Target": {"Id": "i-0123456789abcdef0", "Port": 80}, "HealthCheckPort": "80",
            "TargetHealth": {"State": "unused", "Reason": "Target.NotRegistered",
                "Description": "Target is not registered to the target group"}}])
    );
    let missing = server.aws(&["elbv2", "describe-load-balancers", "--names", "nope"]);
    assert!(!missing.ok);
    assert_eq!(missing.error_code(), "LoadBalancerNotFound");
}
