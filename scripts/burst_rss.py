#!/usr/bin/env python3
"""Resident memory of an Updraft server around a burst of large PutMetricData requests.

Starts the given binary on 127.0.0.1 (a free port), makes one EC2 call, then sends a burst of
concurrent PutMetricData form requests and prints VmRSS (from /proc/<pid>/status) idle, right
after the burst and 10 s later. Issue #20 asks for these figures before and after a change.

    scripts/burst_rss.py target/release/updraft                 # 8 x 1 MB (the largest AWS accepts)
    scripts/burst_rss.py target/release/updraft --datums 100000 --pad 0  # 8 x 3.6 MB, the probe's
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 scripts/burst_rss.py ...  # another allocator
"""

import argparse
import socket
import subprocess
import sys
import threading
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body(datums, pad):
    value = "v" * pad
    parts = ["Action=PutMetricData&Version=2010-08-01&Namespace=Burst"]
    for i in range(1, datums + 1):
        datum = f"MetricData.member.{i}.MetricName=m{i % 1000}&MetricData.member.{i}.Value={i}"
        if pad:
            datum += (
                f"&MetricData.member.{i}.Dimensions.member.1.Name=d"
                f"&MetricData.member.{i}.Dimensions.member.1.Value={value}"
            )
        parts.append(datum)
    return "&".join(parts).encode()


def post(url, data, out):
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            out.append(r.status)
    except urllib.error.HTTPError as e:
        out.append(e.code)
    except OSError as e:  # the server may answer and close before the body is sent
        out.append(type(e).__name__)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--datums", type=int, default=1000)
    p.add_argument("--pad", type=int, default=870, help="bytes of each datum's dimension value (0: no dimension)")
    p.add_argument("--burst", type=int, default=8)
    p.add_argument("--wait", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=1, help="bursts in a row (memory must not keep growing)")
    args = p.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [args.binary, "--listen", f"127.0.0.1:{port}", "--max-body-bytes", str(8 * 1024 * 1024)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "_updraft/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        urllib.request.urlopen(url + "?Action=DescribeRegions&Version=2016-11-15").read()
        idle = rss_kib(server.pid)
        data = body(args.datums, args.pad)
        for _ in range(args.rounds):
            statuses = []
            threads = [threading.Thread(target=post, args=(url, data, statuses)) for _ in range(args.burst)]
            peak = idle
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_kib(server.pid))
                time.sleep(0.01)
            after = rss_kib(server.pid)
            time.sleep(args.wait)
            later = rss_kib(server.pid)
            print(
                f"request {len(data)} B x {args.burst} -> {sorted(set(map(str, statuses)))}: "
                f"idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
                f"after {after / 1024:.1f} MiB, {args.wait:.0f} s later {later / 1024:.1f} MiB"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
