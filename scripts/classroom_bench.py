#!/usr/bin/env python3
"""Classroom load (issue #16's "must hold"): N students doing the Auto Scaling chapter at once
on one classroom server with simulated instances, each with a Classic ELB, a group of 1-3
behind it, +1/-1 simple policies and their two CPU alarms (60 s period), and a console-like
poll of the loop page's calls while the stress knob makes the group scale out and back in.

    nice -n 19 scripts/classroom_bench.py [--binary target/release/updraft] [--students 30]
        [--scales 1,10] [--seconds 180]

Prints, per time scale: API latency p50/p99/max measured by the clients (boto3, signing
included) and by the server (its `duration_us` log field), the slowest operations, the
server's CPU (share of one core, from /proc), how many groups scaled out and back in, and the
teacher board's refresh cost (GET /_updraft/classroom/board, teacher-signed). The clients run
on the same machine as the server: on a loaded 2-core machine the figures are indicative.
"""

import argparse
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "ap-northeast-2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """`updraft classroom` on a free loopback port; its log (stderr) goes to a file."""

    def __init__(self, binary, students, scale):
        self.dir = tempfile.mkdtemp(prefix="updraft-classroom-bench-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "classroom", "--students", str(students), "--listen", f"127.0.0.1:{self.port}",
             "--out", self.dir, "--time-scale", str(scale), "--sns-auto-confirm",
             "--default-region", REGION],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, RUST_LOG="info", NO_COLOR="1"))
        for line in self.proc.stdout:
            if "cards to print" in line:
                break
        with open(os.path.join(self.dir, "credentials.csv")) as f:
            self.members = list(csv.DictReader(f))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def server_durations(self):
        """Per-request `duration_us` from the log, in ms, by operation."""
        self.log.flush()
        self.log.seek(0)
        out = {}
        pat = re.compile(r"operation=(\w+).*duration_us=(\d+)")
        for line in self.log:
            m = pat.search(line)
            if m:
                out.setdefault(m.group(1), []).append(int(m.group(2)) / 1000)
        return out


def signed(url, member, method, path, body=None):
    """An admin request signed with a member's key (as the console signs it)."""
    headers = {"Content-Type": "application/json"} if body else {}
    req = AWSRequest(method=method, url=url + path, data=body, headers=headers)
    SigV4Auth(Credentials(member["aws_access_key_id"], member["aws_secret_access_key"]),
              "updraft", REGION).add_auth(req)
    p = req.prepare()
    data = p.body.encode() if isinstance(p.body, str) else p.body
    r = urllib.request.Request(p.url, data=data, headers=dict(p.headers), method=p.method)
    with urllib.request.urlopen(r) as resp:
        return resp.read()


class Student(threading.Thread):
    def __init__(self, server, member, start, seconds, timings, lock, scale):
        super().__init__(daemon=True)
        self.scale = scale
        with urllib.request.urlopen(server.url + "/_updraft/clock") as r:
            self.virtual0, self.real0 = json.load(r)["epoch_seconds"], time.time()
        self.server, self.member, self.start_at, self.seconds = server, member, start, seconds
        self.timings, self.lock = timings, lock
        self.max_desired, self.final_desired, self.error = 0, 0, None
        session = boto3.session.Session(
            aws_access_key_id=member["aws_access_key_id"],
            aws_secret_access_key=member["aws_secret_access_key"], region_name=REGION)
        cfg = Config(retries={"max_attempts": 1}, max_pool_connections=4)
        self.c = {n: session.client(n, endpoint_url=server.url, config=cfg)
                  for n in ("ec2", "elb", "autoscaling", "cloudwatch", "sns")}

    def call(self, service, op, **kw):
        t0 = time.perf_counter()
        out = getattr(self.c[service], op)(**kw)
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.timings.setdefault(op, []).append(ms)
        return out

    def chapter(self):
        ami = self.call("ec2", "describe_images", Owners=["amazon"])["Images"][0]["ImageId"]
        self.call("elb", "create_load_balancer", LoadBalancerName="exampleelb",
                  Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}],
                  AvailabilityZones=[f"{REGION}a", f"{REGION}c"])
        self.call("elb", "configure_health_check", LoadBalancerName="exampleelb",
                  HealthCheck={"Target": "HTTP:80/", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 2})
        self.call("autoscaling", "create_launch_configuration", LaunchConfigurationName="ExampleLC",
                  ImageId=ami, InstanceType="t2.micro")
        self.call("autoscaling", "create_auto_scaling_group", AutoScalingGroupName="ExampleASG",
                  LaunchConfigurationName="ExampleLC", MinSize=1, MaxSize=3, DesiredCapacity=1,
                  AvailabilityZones=[f"{REGION}a", f"{REGION}c"], LoadBalancerNames=["exampleelb"],
                  HealthCheckGracePeriod=60)
        topic = self.call("sns", "create_topic", Name="ExampleTopic")["TopicArn"]
        self.call("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="student@example.com")
        self.call("autoscaling", "put_notification_configuration", AutoScalingGroupName="ExampleASG",
                  TopicARN=topic, NotificationTypes=["autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_TERMINATE"])
        for name, adj, op, thr in (("Add", 1, "GreaterThanOrEqualToThreshold", 80),
                                   ("Remove", -1, "LessThanOrEqualToThreshold", 5)):
            arn = self.call("autoscaling", "put_scaling_policy", AutoScalingGroupName="ExampleASG",
                            PolicyName=f"AutoScaling-{name}-Policy", AdjustmentType="ChangeInCapacity",
                            ScalingAdjustment=adj, Cooldown=60)["PolicyARN"]
            self.call("cloudwatch", "put_metric_alarm", AlarmName=f"AutoScaling-{name}-Alarm",
                      Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average", Period=60,
                      EvaluationPeriods=1, Threshold=thr, ComparisonOperator=op,
                      Dimensions=[{"Name": "AutoScalingGroupName", "Value": "ExampleASG"}], AlarmActions=[arn])

    def poll(self):
        """What the loop page re-reads on a change notice."""
        g = self.call("autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=["ExampleASG"])["AutoScalingGroups"][0]
        self.final_desired = g["DesiredCapacity"]
        self.max_desired = max(self.max_desired, g["DesiredCapacity"])
        self.call("autoscaling", "describe_policies", AutoScalingGroupName="ExampleASG")
        self.call("elb", "describe_instance_health", LoadBalancerName="exampleelb")
        self.call("cloudwatch", "describe_alarms", AlarmNames=["AutoScaling-Add-Alarm", "AutoScaling-Remove-Alarm"])
        now = self.virtual0 + (time.time() - self.real0) * self.scale
        ids = [i["InstanceId"] for i in g["Instances"]]
        for i in ids[:1]:
            self.call("cloudwatch", "get_metric_statistics", Namespace="AWS/EC2", MetricName="CPUUtilization",
                      Dimensions=[{"Name": "InstanceId", "Value": i}], StartTime=now - 600, EndTime=now + 60,
                      Period=60, Statistics=["Average"])
        return ids

    def stress(self, ids, cpu):
        for i in ids:
            try:
                signed(self.server.url, self.member, "POST", f"/_updraft/instances/{i}/stress", f'{{"cpu_percent": {cpu}}}')
            except Exception:
                pass  # an instance still being launched: the next poll tries again

    def run(self):
        try:
            while time.time() < self.start_at:
                time.sleep(0.01)
            self.chapter()
            end = time.time() + self.seconds
            calm = time.time() + self.seconds / 2
            stressed = set()
            while time.time() < end:
                t0 = time.time()
                ids = self.poll()
                if time.time() < calm:
                    self.stress([i for i in ids if i not in stressed], 100)
                    stressed.update(ids)
                elif stressed:
                    self.stress(sorted(stressed | set(ids)), 0)
                    stressed.clear()
                time.sleep(max(0.0, 2.0 - (time.time() - t0)))
        except Exception as e:  # reported, not raised: one student's failure must not hide the figures
            self.error = repr(e)


def board_cost(server, teacher, samples, gap):
    times, size = [], 0
    for _ in range(samples):
        t0 = time.perf_counter()
        body = signed(server.url, teacher, "GET", "/_updraft/classroom/board")
        times.append((time.perf_counter() - t0) * 1000)
        size = len(body)
        time.sleep(gap)
    return times, size


def run(binary, students, scale, seconds):
    server = Server(binary, students, scale)
    timings, lock = {}, threading.Lock()
    start = time.time() + 2
    threads = [Student(server, m, start, seconds, timings, lock, scale) for m in server.members if m["role"] == "student"]
    teacher = next(m for m in server.members if m["role"] == "teacher")
    for t in threads:
        t.start()
    while time.time() < start:
        time.sleep(0.01)
    cpu0, wall0 = cpu_seconds(server.proc.pid), time.time()
    board = []
    bt = threading.Thread(target=lambda: board.append(board_cost(server, teacher, 10, seconds / 12)), daemon=True)
    bt.start()
    for t in threads:
        t.join()
    bt.join()
    cpu = (cpu_seconds(server.proc.pid) - cpu0) / (time.time() - wall0) * 100
    server_ms = server.server_durations()
    server.stop()

    every = [v for vs in timings.values() for v in vs]
    every_server = [v for vs in server_ms.values() for v in vs]
    print(f"\n== --time-scale {scale}: {len(threads)} students, {seconds} s of polling after the chapter ==")
    print(f"calls {len(every)} ({len(every) / (time.time() - wall0):.0f}/s)  server CPU {cpu:.0f}% of one core")
    print(f"API latency, client (boto3, signing included): p50 {pct(every, 50):.1f} ms  p99 {pct(every, 99):.1f} ms  max {max(every):.1f} ms")
    print(f"API latency, server (duration_us):             p50 {pct(every_server, 50):.2f} ms  p99 {pct(every_server, 99):.2f} ms  max {max(every_server):.1f} ms  ({len(every_server)} requests logged)")
    slow = sorted(server_ms.items(), key=lambda kv: -pct(kv[1], 99))[:4]
    print("slowest on the server (p99): " + ", ".join(f"{op} {pct(v, 99):.2f} ms" for op, v in slow))
    out = sum(1 for t in threads if t.max_desired >= 2)
    back = sum(1 for t in threads if t.max_desired >= 2 and t.final_desired < t.max_desired)
    print(f"groups that scaled out: {out}/{len(threads)}; came back in before the end: {back}/{len(threads)}")
    errors = [t.error for t in threads if t.error]
    if errors:
        print(f"student errors ({len(errors)}): {errors[:3]}")
    if board:
        times, size = board[0]
        print(f"teacher board refresh (GET /_updraft/classroom/board, {size} bytes): p50 {pct(times, 50):.1f} ms  max {max(times):.1f} ms")
    return not errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/updraft")
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--seconds", type=float, default=180)
    a = ap.parse_args()
    ok = True
    for scale in a.scales.split(","):
        ok &= run(a.binary, a.students, float(scale), a.seconds)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
