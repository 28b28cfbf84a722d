//! A network load balancer end to end through boto3, on a frozen clock with listener ports on:
//! a TCP listener carries raw byte streams (NUL bytes included, both half-closes) to loopback
//! echo servers registered as `ip` targets; TCP health checks (a connection accepted is a pass)
//! make a target whose port closed `unhealthy`, and it gets no flow even once its port opens
//! again; the PROXY protocol v2 header reaches targets when the group asks for it; a draining
//! target keeps its flows but gets no new one, and they are closed when its deregistration
//! delay ends with connection termination on; the cross-zone attribute is stored and checked.

use serde_json::json;
use updraft::Config;

use crate::common::{BOTO3_PRELUDE, TestServer};
use crate::ec2::EC2_PRELUDE;
use crate::elbv2::ELBV2_PRELUDE;

/// Loopback TCP echo servers and a flow helper.
const ECHO_PRELUDE: &str = r#"
import socket, threading, random
class Echo:
    # Echoes every byte; after the client's end of stream, sends '|<name>' and closes.
    # `flows` counts connections that carried data (health checks connect and send nothing).
    def __init__(self, name, port=0):
        self.name, self.flows = name, 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()
    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()
    def serve(self, c):
        first = True
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                if first:
                    self.flows += 1
                    first = False
                c.sendall(d)
            c.sendall(b'|' + self.name.encode())
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()
    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

def free_port():
    # Below the ephemeral range (and apart from the Rust tests' ports): no port-0 bind
    # elsewhere can take it before the listener binds it.
    import random
    for p in random.sample(range(18000, 20000), 2000):
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', p))
            return p
        except OSError:
            pass
        finally:
            s.close()
    raise RuntimeError('no free port')

def flow(port, data):
    # Send `data` (from a thread, so a long one cannot jam), half-close, read to the end.
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    out = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    t.join()
    local = s.getsockname()[1]
    s.close()
    return out, local

def who(out, data):
    # The target's name when the echo is byte-exact, else None.
    return out[len(data) + 1:].decode() if out[:len(data)] == data and out[len(data):len(data) + 1] == b'|' else None
"#;

fn nlb_server() -> TestServer {
    TestServer::with_config(Config {
        time_scale: 0.0,
        lb_listener_ports: true,
        ..Config::default()
    })
}

#[test]
fn nlb_proxies_tcp_flows_to_healthy_targets() {
    let server = nlb_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{ECHO_PRELUDE}\n{}",
        r##"
out = {}
a, b, c = Echo('A'), Echo('B'), Echo('C')
lport = free_port()
nlb = elb.create_load_balancer(Name='nlb-echo', Type='network', Subnets=subnet_ids)['LoadBalancers'][0]
arn = nlb['LoadBalancerArn']
tg = elb.create_target_group(Name='nlb-echo', Protocol='TCP', Port=a.port, VpcId=vpc, TargetType='ip')['TargetGroups'][0]
tga = tg['TargetGroupArn']
out['hc'] = [tg['HealthCheckProtocol'], tg['HealthCheckIntervalSeconds'], tg['UnhealthyThresholdCount']]
elb.create_listener(LoadBalancerArn=arn, Protocol='TCP', Port=lport, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tga}])
elb.register_targets(TargetGroupArn=tga, Targets=[{'Id': '127.0.0.1', 'Port': e.port} for e in (a, b, c)])
advance(5)
wait_health(tga, {})
for _ in range(300):
    h = elb.describe_target_health(TargetGroupArn=tga)['TargetHealthDescriptions']
    if all(d['TargetHealth']['State'] == 'healthy' for d in h):
        break
    time.sleep(0.02)
out['healthy'] = sorted(d['TargetHealth']['State'] for d in h)
# The port is bound by the listener-port controller: wait until it accepts.
for _ in range(300):
    try:
        socket.create_connection(('127.0.0.1', lport), timeout=2).close()
        break
    except OSError:
        time.sleep(0.02)

# Byte streams of every value, both ways, ended by the client's half-close and then the target's.
rnd = random.Random(7)
seen = []
for i in range(30):
    data = bytes(rnd.randrange(256) for _ in range(1000 + 3000 * i)) + b'\0end'
    got, _ = flow(lport, data)
    seen.append(who(got, data))
out['exact'] = all(seen)
out['spread'] = {n: seen.count(n) for n in 'ABC'}

# C's port closes: two failed checks make it unhealthy.
c.close()
advance(30)
advance(30)
def state_of(port):
    for d in elb.describe_target_health(TargetGroupArn=tga)['TargetHealthDescriptions']:
        if d['Target']['Port'] == port:
            return [d['TargetHealth']['State'], d['TargetHealth'].get('Reason'), d['TargetHealth'].get('Description')]
for _ in range(300):
    if state_of(c.port)[0] == 'unhealthy':
        break
    time.sleep(0.02)
out['c_after_close'] = state_of(c.port)
# Its port opens again, but no check has run since: it stays unhealthy and gets nothing.
c2 = Echo('C', port=c.port)
seen = [who(*[flow(lport, b'x%d' % i)[0], b'x%d' % i]) for i in range(12)]
out['after_unhealthy'] = {n: seen.count(n) for n in 'ABC'}
out['c2_flows'] = c2.flows

# PROXY protocol v2: the header first, with the client's address and the listener's port.
elb.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[{'Key': 'proxy_protocol_v2.enabled', 'Value': 'true'}])
got, local = flow(lport, b'hello')
hdr = got[:28]
out['ppv2'] = [hdr[:12] == b'\r\n\r\n\x00\r\nQUIT\n', hdr[12], hdr[13], int.from_bytes(hdr[14:16], 'big'),
               list(hdr[16:20]), list(hdr[20:24]), int.from_bytes(hdr[24:26], 'big') == local,
               int.from_bytes(hdr[26:28], 'big') == lport, got[28:33].decode()]
elb.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[{'Key': 'proxy_protocol_v2.enabled', 'Value': 'false'}])

# Draining: a flow open on the deregistered target goes on; new flows avoid it; once the delay
# ends (connection termination on), the flow is closed.
elb.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[
    {'Key': 'deregistration_delay.timeout_seconds', 'Value': '30'},
    {'Key': 'deregistration_delay.connection_termination.enabled', 'Value': 'true'}])
before = {e.name: e.flows for e in (a, b)}
long = socket.create_connection(('127.0.0.1', lport), timeout=10)
long.sendall(b'hi')
first = long.recv(10)
on = [e for e in (a, b) if e.flows > before[e.name]][0]
other = b if on is a else a
elb.deregister_targets(TargetGroupArn=tga, Targets=[{'Id': '127.0.0.1', 'Port': on.port}])
out['draining'] = state_of(on.port)
long.sendall(b'still')
out['long'] = [first.decode(), long.recv(10).decode()]
seen = [who(*[flow(lport, b'y%d' % i)[0], b'y%d' % i]) for i in range(6)]
out['while_draining'] = [seen.count(on.name), seen.count(other.name)]
advance(31)
started = time.time()
long.settimeout(10)
try:
    tail = long.recv(10)
except OSError as e:
    tail = repr(e)
out['cut'] = [tail in (b'', b'|' + on.name.encode()), time.time() - started < 8]
out['gone'] = state_of(on.port)

# The cross-zone switch: stored, returned, checked.
attrs = {x['Key']: x['Value'] for x in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)['Attributes']}
out['cross_zone'] = [attrs['load_balancing.cross_zone.enabled'],
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{'Key': 'load_balancing.cross_zone.enabled', 'Value': 'true'}])['Attributes']]
out['cross_zone_bad'] = [err(elb, lambda: elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{'Key': 'load_balancing.cross_zone.enabled', 'Value': v}]))['code'] for v in ('maybe', 'use_load_balancer_configuration')]
out['tg_cross_zone'] = elb.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[{'Key': 'load_balancing.cross_zone.enabled', 'Value': 'use_load_balancer_configuration'}])['Attributes']
out['tcp_idle_bad'] = err(elb, lambda: elb.modify_listener_attributes(ListenerArn=elb.describe_listeners(LoadBalancerArn=arn)['Listeners'][0]['ListenerArn'], Attributes=[{'Key': 'tcp.idle_timeout.seconds', 'Value': '5'}]))['code']
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(out["hc"], json!(["TCP", 30, 2]));
    assert_eq!(out["healthy"], json!(["healthy", "healthy", "healthy"]));
    assert_eq!(out["exact"], true, "{out}");
    assert_eq!(out["spread"], json!({"A": 10, "B": 10, "C": 10}));
    assert_eq!(
        out["c_after_close"],
        json!([
            "unhealthy",
            "Target.FailedHealthChecks",
            "Health checks failed"
        ])
    );
    assert_eq!(out["after_unhealthy"], json!({"A": 6, "B": 6, "C": 0}));
    assert_eq!(out["c2_flows"], 0);
    assert_eq!(
        out["ppv2"],
        json!([
            true,
            0x21,
            0x11,
            12,
            [127, 0, 0, 1],
            [127, 0, 0, 1],
            true,
            true,
            "hello"
        ])
    );
    assert_eq!(
        out["draining"],
        json!([
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress"
        ])
    );
    assert_eq!(out["long"], json!(["hi", "still"]));
    assert_eq!(out["while_draining"], json!([0, 6]));
    assert_eq!(out["cut"], json!([true, true]));
    assert_eq!(out["gone"], json!(null));
    assert_eq!(
        out["cross_zone"],
        json!(["false", [{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}]])
    );
    assert_eq!(
        out["cross_zone_bad"],
        json!(["InvalidConfigurationRequest", "InvalidConfigurationRequest"])
    );
    assert_eq!(
        out["tg_cross_zone"],
        json!([{"Key": "load_balancing.cross_zone.enabled", "Value": "use_load_balancer_configuration"}])
    );
    assert_eq!(out["tcp_idle_bad"], "InvalidConfigurationRequest");
}

#[test]
fn nlb_flows_to_simulated_instances_stay_in_their_zone_unless_cross_zone_is_on() {
    let server = nlb_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}{ELBV2_PRELUDE}{ECHO_PRELUDE}\n{}",
        r##"
import http.client
out = {}
# Two instances in the first zone, one in the second (instances() alternates the zones).
a1 = instances(1, 'nlb-A1')[0]
b = instances(1, 'nlb-B')[0]
a2 = instances(1, 'nlb-A2')[0]
lport = free_port()
nlb = elb.create_load_balancer(Name='nlb-web', Type='network', Subnets=subnet_ids)['LoadBalancers'][0]
arn = nlb['LoadBalancerArn']
tga = elb.create_target_group(Name='nlb-web', Protocol='TCP', Port=80, VpcId=vpc)['TargetGroups'][0]['TargetGroupArn']
elb.create_listener(LoadBalancerArn=arn, Protocol='TCP', Port=lport, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tga}])
elb.register_targets(TargetGroupArn=tga, Targets=[{'Id': i} for i in (a1, b, a2)])
advance(5)
wait_health(tga, {a1: 'healthy', b: 'healthy', a2: 'healthy'})
def conn():
    for _ in range(300):
        try:
            return http.client.HTTPConnection('127.0.0.1', lport, timeout=10)
        except OSError:
            time.sleep(0.02)
def fetch(c, path='/'):
    c.request('GET', path)
    r = c.getresponse()
    return r.status, r.read().decode()
def served(n):
    counts = {'A1': 0, 'A2': 0, 'B': 0}
    for _ in range(n):
        c = conn()
        status, body = fetch(c)
        c.close()
        for k in counts:
            if 'nlb-' + k in body:
                counts[k] += 1
    return counts
# The listener port is bound by a controller: wait until a request goes through.
for _ in range(300):
    try:
        c = http.client.HTTPConnection('127.0.0.1', lport, timeout=2)
        fetch(c)
        c.close()
        break
    except (OSError, http.client.HTTPException):
        time.sleep(0.02)
# One flow, one target: two requests on a keep-alive connection reach the same instance.
c = conn()
first, second = fetch(c, '/one'), fetch(c, '/two')
c.close()
out['keep_alive'] = [first[0], second[0], first[1] == second[1]]
# Cross-zone off (an NLB's default): each zone's node gets half the flows, and sends them only
# to its own zone's targets.
out['zonal'] = served(12)
elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{'Key': 'load_balancing.cross_zone.enabled', 'Value': 'true'}])
out['cross_zone'] = served(12)
# The group's own setting wins over the load balancer's.
elb.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[{'Key': 'load_balancing.cross_zone.enabled', 'Value': 'false'}])
out['group_off'] = served(12)['B']
# AWS/NetworkELB: every flow counted, with its bytes, per load balancer and per zone.
import datetime
cw = client('cloudwatch')
dim = arn.split('loadbalancer/')[1]
advance(60)
time.sleep(0.1)
advance(60)
def total(name, dims):
    now = datetime.datetime.now(datetime.timezone.utc)
    r = cw.get_metric_statistics(Namespace='AWS/NetworkELB', MetricName=name, Dimensions=dims,
        StartTime=now - datetime.timedelta(days=1), EndTime=now + datetime.timedelta(days=1), Period=3600, Statistics=['Sum'])
    return sum(p['Sum'] for p in r['Datapoints'])
lbd = [{'Name': 'LoadBalancer', 'Value': dim}]
for _ in range(300):
    if total('NewFlowCount', lbd) >= 38:
        break
    time.sleep(0.02)
out['flows'] = total('NewFlowCount', lbd)
out['zone_flows'] = sum(total('NewFlowCount', [{'Name': 'AvailabilityZone', 'Value': s['AvailabilityZone']}] + lbd) for s in subnets[:2])
out['bytes'] = total('ProcessedBytes', lbd) > 38 * 100
names = lambda ns: sorted({m['MetricName'] for m in cw.list_metrics(Namespace=ns)['Metrics'] if any(d['Value'] == dim for d in m['Dimensions'])})
out['nlb_metrics'] = names('AWS/NetworkELB')
out['alb_metrics'] = names('AWS/ApplicationELB')
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(out["keep_alive"], json!([200, 200, true]));
    let zonal = &out["zonal"];
    assert_eq!(zonal["B"], 6, "{out}");
    assert_eq!(
        zonal["A1"].as_i64().unwrap() + zonal["A2"].as_i64().unwrap(),
        6
    );
    assert_eq!(out["cross_zone"], json!({"A1": 4, "A2": 4, "B": 4}));
    assert_eq!(out["group_off"], 6);
    // 36 counted flows, the keep-alive one and the first that went through.
    assert_eq!(out["flows"], 38.0, "{out}");
    assert_eq!(out["zone_flows"], 38.0);
    assert_eq!(out["bytes"], true);
    assert_eq!(
        out["nlb_metrics"],
        json!([
            "HealthyHostCount",
            "NewFlowCount",
            "NewFlowCount_TCP",
            "ProcessedBytes",
            "ProcessedBytes_TCP",
            "UnHealthyHostCount"
        ])
    );
    assert_eq!(out["alb_metrics"], json!([]));
}
