//! An ALB end to end on a frozen clock: two target groups behind path rules reached by Host
//! header on the server's port, targets turning healthy on the clock, a stopped instance
//! avoided, fail-open, draining, redirects, fixed responses, `AWS/ApplicationELB` metrics, and
//! the functions Auto Scaling calls.

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};
use crate::elbv2::ELBV2_PRELUDE;

/// `get(dns, path, headers)` → (status, body, headers, set-cookies) through the data plane.
const HTTP_PRELUDE: &str = r#"
import http.client
port = int(os.environ['ENDPOINT'].rsplit(':', 1)[1])
def get(dns, path, headers=None, method='GET'):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    h = {'Host': dns}
    h.update(headers or {})
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read().decode()
    out = (r.status, body, {k.lower(): v for k, v in r.getheaders()}, r.msg.get_all('Set-Cookie') or [])
    c.close()
    return out
"#;

#[test]
fn alb_routes_by_path_to_healthy_targets_on_the_clock() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{HTTP_PRELUDE}\n{}",
        r##"
out = {}
web1, web2 = instances(1, 'web A')[0], instances(1, 'web B')[0]
api1 = instances(1, 'api')[0]
lb = elb.create_load_balancer(Name='shop', Subnets=subnet_ids)['LoadBalancers'][0]
dns, lb_arn = lb['DNSName'], lb['LoadBalancerArn']
tg1 = elb.create_target_group(Name='web', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
tg2 = elb.create_target_group(Name='api', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
tg3 = elb.create_target_group(Name='spare', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol='HTTP', Port=80,
    DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg1}])['Listeners'][0]['ListenerArn']
elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[{'Field': 'path-pattern', 'Values': ['/api/*']}],
    Actions=[{'Type': 'forward', 'TargetGroupArn': tg2}])
elb.create_rule(ListenerArn=listener, Priority=20, Conditions=[{'Field': 'path-pattern', 'Values': ['/old*']}],
    Actions=[{'Type': 'redirect', 'RedirectConfig': {'Path': '/new', 'StatusCode': 'HTTP_302'}}])
elb.create_rule(ListenerArn=listener, Priority=30, Conditions=[{'Field': 'path-pattern', 'Values': ['/maint']}],
    Actions=[{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '503', 'ContentType': 'text/plain', 'MessageBody': 'down for maintenance'}}])
elb.register_targets(TargetGroupArn=tg1, Targets=[{'Id': web1}, {'Id': web2}])
elb.register_targets(TargetGroupArn=tg2, Targets=[{'Id': api1}])
elb.register_targets(TargetGroupArn=tg3, Targets=[{'Id': web1}])
out['registering'] = health(tg1)
out['not_in_use'] = health(tg3)
out['not_registered'] = health(tg1, [{'Id': api1}])
s, body, h, _ = get(dns, '/')
out['before_healthy'] = [s, len(body), h.get('server'), h.get('content-type')]
advance(5)
out['healthy'] = wait_health(tg1, {web1: 'healthy', web2: 'healthy'})
wait_health(tg2, {api1: 'healthy'})
out['root'] = sorted(get(dns, '/')[1].strip() for _ in range(4))
out['root_with_port'] = get(dns + ':80', '/index.html')[1].strip() in ('web A', 'web B')
out['api'] = get(dns.upper(), '/api/items?x=1')[1].strip()
s, body, h, _ = get(dns, '/old/page?q=2')
out['redirect'] = [s, h.get('location')]
s, body, h, _ = get(dns, '/maint')
out['fixed'] = [s, body, h.get('content-type')]

# A stopped instance is unused and gets no traffic.
ec2.stop_instances(InstanceIds=[web2])
advance(5)
wait_state(ec2, [web2], 'stopped')
out['stopped'] = health(tg1)[web2]
out['root_after_stop'] = sorted(set(get(dns, '/')[1].strip() for _ in range(4)))

# Failing checks: unhealthy after UnhealthyThresholdCount intervals; all unhealthy -> fail open.
elb.modify_target_group(TargetGroupArn=tg2, Matcher={'HttpCode': '404'})
advance(30)
advance(30)
out['unhealthy'] = wait_health(tg2, {api1: 'unhealthy'})[api1]
out['fail_open'] = get(dns, '/api/x')[1].strip()

# Deregistration drains for the delay, then the target is gone.
elb.modify_target_group_attributes(TargetGroupArn=tg1, Attributes=[{'Key': 'deregistration_delay.timeout_seconds', 'Value': '60'}])
elb.deregister_targets(TargetGroupArn=tg1, Targets=[{'Id': web1}])
out['draining'] = health(tg1)[web1]
s, body, h, _ = get(dns, '/')
out['no_target'] = [s, 'Service Temporarily Unavailable' in body]
advance(61)
for _ in range(100):
    if web1 not in health(tg1):
        break
    time.sleep(0.02)
out['after_drain'] = health(tg1)
out['after_drain_asked'] = health(tg1, [{'Id': web1, 'Port': 80}])

# Metrics of the minutes with traffic.
cw = client('cloudwatch')
def names():
    return sorted({m['MetricName'] for m in cw.list_metrics(Namespace='AWS/ApplicationELB')['Metrics']})
for _ in range(100):
    if 'RequestCount' in names() and 'HealthyHostCount' in names():
        break
    time.sleep(0.02)
out['metrics'] = names()
lbdim = lb_arn.split(':loadbalancer/')[1]
import datetime
now = json.loads(urllib.request.urlopen(os.environ['ENDPOINT'] + '/_updraft/clock').read())['epoch_seconds']
def total(name, dims):
    r = cw.get_metric_statistics(Namespace='AWS/ApplicationELB', MetricName=name, Dimensions=dims,
        StartTime=datetime.datetime.fromtimestamp(now - 3600, datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(now + 60, datetime.timezone.utc), Period=60, Statistics=['Sum'])
    return sum(p['Sum'] for p in r['Datapoints'])
out['requests'] = total('RequestCount', [{'Name': 'LoadBalancer', 'Value': lbdim}])
out['elb_5xx'] = total('HTTPCode_ELB_5XX_Count', [{'Name': 'LoadBalancer', 'Value': lbdim}])
out['target_2xx'] = total('HTTPCode_Target_2XX_Count', [{'Name': 'LoadBalancer', 'Value': lbdim}])
out['elb_3xx'] = total('HTTPCode_ELB_3XX_Count', [{'Name': 'LoadBalancer', 'Value': lbdim}])
tgdim = 'targetgroup/' + tg2.split(':targetgroup/')[1]
out['api_requests'] = total('RequestCount', [{'Name': 'TargetGroup', 'Value': tgdim}, {'Name': 'LoadBalancer', 'Value': lbdim}])
out['ids'] = [web1, web2, api1]
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let ids = out["ids"].as_array().unwrap();
    let (web1, web2, api1) = (
        ids[0].as_str().unwrap(),
        ids[1].as_str().unwrap(),
        ids[2].as_str().unwrap(),
    );
    let registering = json!([
        "initial",
        "Elb.RegistrationInProgress",
        "Target registration is in progress"
    ]);
    assert_eq!(
        out["registering"],
        json!({web1: registering, web2: registering})
    );
    assert_eq!(
        out["not_in_use"][web1],
        json!([
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer"
        ])
    );
    assert_eq!(
        out["not_registered"][api1],
        json!([
            "unused",
            "Target.NotRegistered",
            "Target is not registered to the target group"
        ])
    );
    assert_eq!(
        out["before_healthy"],
        json!([503, 162, "awselb/2.0", "text/html"])
    );
    assert_eq!(out["healthy"][web1], json!(["healthy", null, null]));
    assert_eq!(
        out["root"],
        json!(["web A", "web A", "web B", "web B"]),
        "round robin"
    );
    assert_eq!(out["root_with_port"], true);
    assert_eq!(out["api"], "api");
    assert_eq!(out["redirect"][0], 302);
    let location = out["redirect"][1].as_str().unwrap();
    assert!(
        location.starts_with("http://shop-") && location.ends_with(".elb.localhost/new?q=2"),
        "{location}"
    );
    assert_eq!(
        out["fixed"],
        json!([503, "down for maintenance", "text/plain"])
    );
    assert_eq!(
        out["stopped"],
        json!([
            "unused",
            "Target.InvalidState",
            "Target is in the stopped state"
        ])
    );
    assert_eq!(out["root_after_stop"], json!(["web A"]));
    assert_eq!(
        out["unhealthy"],
        json!([
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [200]"
        ])
    );
    assert_eq!(out["fail_open"], "api");
    assert_eq!(
        out["draining"],
        json!([
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress"
        ])
    );
    assert_eq!(out["no_target"], json!([503, true]));
    assert_eq!(
        out["after_drain"],
        json!({web2: ["unused", "Target.InvalidState", "Target is in the stopped state"]})
    );
    assert_eq!(out["after_drain_asked"][web1][1], "Target.NotRegistered");
    let metrics = out["metrics"].as_array().unwrap();
    for m in [
        "RequestCount",
        "HealthyHostCount",
        "UnHealthyHostCount",
        "HTTPCode_Target_2XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_ELB_3XX_Count",
        "TargetResponseTime",
        "RequestCountPerTarget",
    ] {
        assert!(metrics.contains(&json!(m)), "{m} missing: {metrics:?}");
    }
    // 1 + 4 + 1 + 1 + 1 + 1 + 4 + 1 + 1 requests were sent.
    assert_eq!(out["requests"], 15.0);
    assert_eq!(out["elb_5xx"], 3.0, "two 503 pages and the fixed 503");
    assert_eq!(out["elb_3xx"], 1.0);
    assert_eq!(out["target_2xx"], 11.0);
    assert_eq!(out["api_requests"], 2.0);
}

#[test]
fn alb_stickiness_weights_and_least_outstanding() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{HTTP_PRELUDE}\n{}",
        r##"
out = {}
a, b = instances(1, 'A')[0], instances(1, 'B')[0]
c = instances(1, 'C')[0]
lb = elb.create_load_balancer(Name='sticky', Subnets=subnet_ids)['LoadBalancers'][0]
dns = lb['DNSName']
tg1 = elb.create_target_group(Name='ab', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
tg2 = elb.create_target_group(Name='c', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
listener = elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTP', Port=80,
    DefaultActions=[{'Type': 'forward', 'ForwardConfig': {'TargetGroups': [{'TargetGroupArn': tg1, 'Weight': 1}, {'TargetGroupArn': tg2, 'Weight': 0}]}}])['Listeners'][0]['ListenerArn']
elb.register_targets(TargetGroupArn=tg1, Targets=[{'Id': a}, {'Id': b}])
elb.register_targets(TargetGroupArn=tg2, Targets=[{'Id': c}])
advance(5)
wait_health(tg1, {a: 'healthy', b: 'healthy'})
wait_health(tg2, {c: 'healthy'})
out['weight0'] = sorted(set(get(dns, '/')[1].strip() for _ in range(6)))
elb.modify_target_group_attributes(TargetGroupArn=tg1, Attributes=[{'Key': 'stickiness.enabled', 'Value': 'true'}])
s, body, h, cookies = get(dns, '/')
out['cookie_names'] = sorted(ck.split('=')[0] for ck in cookies)
albc = [ck for ck in cookies if ck.startswith('AWSALB=')][0]
out['cookie_attrs'] = ['Expires=' in albc, 'Path=/' in albc]
value = albc.split(';')[0]
out['sticky'] = sorted(set(get(dns, '/', {'Cookie': value})[1].strip() for _ in range(6))) == [body.strip()]
# The sticky target deregistered: a new target is picked and the cookie rewritten.
first = a if body.strip() == 'A' else b
elb.deregister_targets(TargetGroupArn=tg1, Targets=[{'Id': first}])
s, body2, h, cookies2 = get(dns, '/', {'Cookie': value})
out['moved'] = body2.strip() != body.strip()
out['rewritten'] = any(ck.startswith('AWSALB=') and ck.split(';')[0] != value for ck in cookies2)
elb.modify_listener(ListenerArn=listener, DefaultActions=[{'Type': 'forward', 'ForwardConfig': {'TargetGroups': [{'TargetGroupArn': tg1, 'Weight': 0}, {'TargetGroupArn': tg2, 'Weight': 5}]}}])
out['weight_moved'] = sorted(set(get(dns, '/')[1].strip() for _ in range(4)))
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(out["weight0"], json!(["A", "B"]));
    assert_eq!(out["cookie_names"], json!(["AWSALB", "AWSALBCORS"]));
    assert_eq!(out["cookie_attrs"], json!([true, true]));
    assert_eq!(out["sticky"], true);
    assert_eq!(out["moved"], true);
    assert_eq!(out["rewritten"], true);
    assert_eq!(out["weight_moved"], json!(["C"]));
}

#[test]
fn auto_scaling_can_register_and_read_health() {
    use updraft::services::elbv2;
    use updraft::state::Scope;
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}\n{}",
        r##"
i = instances(1)[0]
lb = elb.create_load_balancer(Name='asg-lb', Subnets=subnet_ids)['LoadBalancers'][0]['LoadBalancerArn']
tg = elb.create_target_group(Name='asg-tg', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
print(json.dumps({'i': i, 'tg': tg}))
"##
    );
    let out = server.boto3(&script);
    let (i, tg) = (out["i"].as_str().unwrap(), out["tg"].as_str().unwrap());
    let scope = Scope::new("000000000000", "us-east-1");
    let state = &server.state;
    assert!(elbv2::target_group_exists(state, &scope, tg));
    assert!(!elbv2::target_group_exists(
        state,
        &scope,
        &format!("{tg}0")
    ));
    assert_eq!(elbv2::target_healthy(state, &scope, tg, i), None);
    elbv2::register_internal(state, &scope, tg, &[i.to_owned()]).unwrap();
    assert_eq!(elbv2::target_healthy(state, &scope, tg, i), None, "initial");
    state.clock.advance(5.0);
    let mut healthy = None;
    // Up to 15 s: a loaded CI machine can take seconds to run the probe.
    for _ in 0..750 {
        healthy = elbv2::target_healthy(state, &scope, tg, i);
        if healthy.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(healthy, Some(true));
    assert!(!elbv2::target_draining(state, &scope, tg, i));
    elbv2::deregister_internal(state, &scope, tg, &[i.to_owned()]).unwrap();
    assert!(elbv2::target_draining(state, &scope, tg, i));
    assert_eq!(elbv2::target_healthy(state, &scope, tg, i), None);
    // Deregistering again (or an unknown instance) is not an error for Auto Scaling.
    elbv2::deregister_internal(state, &scope, tg, &["i-0123456789abcdef0".to_owned()]).unwrap();
    let err =
        elbv2::register_internal(state, &scope, &format!("{tg}0"), &[i.to_owned()]).unwrap_err();
    assert_eq!(err.code, "TargetGroupNotFound");
    state.clock.advance(301.0);
    let mut draining = true;
    // Up to 15 s: a loaded CI machine can take seconds to run the probe.
    for _ in 0..750 {
        draining = elbv2::target_draining(state, &scope, tg, i);
        if !draining {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !draining,
        "drained after deregistration_delay.timeout_seconds"
    );
}

#[test]
fn ip_targets_on_loopback_are_probed_and_proxied_by_socket() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{HTTP_PRELUDE}\n{}",
        r##"
import threading, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 500 if self.path.startswith('/broken') else 200
        body = ('saw %s xff=%s' % (self.path, self.headers.get('X-Forwarded-For'))).encode()
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
tport = srv.server_address[1]
out = {}
lb = elb.create_load_balancer(Name='ipalb', Subnets=subnet_ids)['LoadBalancers'][0]
tg = elb.create_target_group(Name='ips', Protocol='HTTP', Port=tport, VpcId=vpc, TargetType='ip')['TargetGroups'][0]['TargetGroupArn']
elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': '127.0.0.1'}])
advance(5)
out['healthy'] = wait_health(tg, {'127.0.0.1': 'healthy'})['127.0.0.1']
out['proxied'] = get(lb['DNSName'], '/hello')[:2]
elb.modify_target_group(TargetGroupArn=tg, HealthCheckPath='/broken')
advance(30)
advance(30)
out['unhealthy'] = wait_health(tg, {'127.0.0.1': 'unhealthy'})['127.0.0.1']
out['hc_port'] = elb.describe_target_health(TargetGroupArn=tg)['TargetHealthDescriptions'][0]['HealthCheckPort'] == str(tport)
# The only target is unhealthy, so the ALB fails open to it; once nothing listens there, the
# refused connection is ALB's 502 page.
srv.shutdown()
srv.server_close()
gone = get(lb['DNSName'], '/gone')
out['refused'] = [gone[0], len(gone[1]), '<title>502 Bad Gateway</title>' in gone[1], gone[2].get('server')]

# A network load balancer: TCP listener and target group (control plane only).
nlb = elb.create_load_balancer(Name='nlb', Type='network', Subnets=subnet_ids[:1])['LoadBalancers'][0]
tcp = elb.create_target_group(Name='tcp', Protocol='TCP', Port=22, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
l = elb.create_listener(LoadBalancerArn=nlb['LoadBalancerArn'], Protocol='TCP', Port=22, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tcp}])['Listeners'][0]
out['nlb'] = [nlb['Type'], nlb['CanonicalHostedZoneId'], 'SecurityGroups' in nlb, l['Protocol']]
out['nlb_http_tg'] = err(elb, lambda: elb.create_listener(LoadBalancerArn=nlb['LoadBalancerArn'], Protocol='TCP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}]))['code']
out['nlb_attrs'] = {a['Key']: a['Value'] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=nlb['LoadBalancerArn'])['Attributes']}['load_balancing.cross_zone.enabled']
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(out["healthy"], json!(["healthy", null, null]));
    assert_eq!(out["proxied"], json!([200, "saw /hello xff=127.0.0.1"]));
    assert_eq!(
        out["unhealthy"],
        json!([
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [500]"
        ])
    );
    assert_eq!(out["hc_port"], true);
    assert_eq!(out["refused"], json!([502, 122, true, "awselb/2.0"]));
    assert_eq!(
        out["nlb"],
        json!(["network", "Z26RNL4JYFTOTI", false, "TCP"])
    );
    assert_eq!(out["nlb_http_tg"], "IncompatibleProtocols");
    assert_eq!(out["nlb_attrs"], "false");
}

#[test]
fn instances_in_zones_the_alb_does_not_use_are_unused_until_set_subnets() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{HTTP_PRELUDE}\n{}",
        r##"
out = {}
third = subnets[2]['SubnetId']
i = ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1, SubnetId=third)['Instances'][0]['InstanceId']
advance(10)
wait_state(ec2, [i], 'running')
lb = elb.create_load_balancer(Name='twozones', Subnets=subnet_ids)['LoadBalancers'][0]
tg = elb.create_target_group(Name='z', Protocol='HTTP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTP', Port=80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': i}])
advance(40)
out['off_zone'] = health(tg)[i]
out['traffic'] = get(lb['DNSName'], '/')[0]
zones = elb.set_subnets(LoadBalancerArn=lb['LoadBalancerArn'], Subnets=subnet_ids + [third])['AvailabilityZones']
out['zones'] = len(zones)
out['healthy'] = wait_health(tg, {i: 'healthy'})[i][0]
out['traffic_after'] = get(lb['DNSName'], '/')[0]
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(
        out["off_zone"],
        json!([
            "unused",
            "Target.NotInUse",
            "Target is in an Availability Zone that is not enabled for the load balancer"
        ])
    );
    assert_eq!(out["traffic"], 503);
    assert_eq!(out["zones"], 3);
    assert_eq!(out["healthy"], "healthy");
    assert_eq!(out["traffic_after"], 200);
}
