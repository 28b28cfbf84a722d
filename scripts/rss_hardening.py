#!/usr/bin/env python3
"""Resident memory of a running Updraft under hostile load (issue #20's figures).

Usage: scripts/rss_hardening.py [path/to/updraft]   (default: target/release/updraft)

Starts the binary on a free loopback port and prints VmRSS: idle after the first EC2
call; after 5,000 requests naming made-up regions; after 5,000 reads with new 12-digit
account keys; with 1,000 idle connections open; with 500 connections each holding an
unfinished 60 KB request head.
"""
import http.client
import os
import socket
import subprocess
import sys
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/updraft"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def auth(key, region, service="ec2"):
    return (f"AWS4-HMAC-SHA256 Credential={key}/20261206/{region}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00")


def requests(port, headers_for, n, body):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(headers_for(i))
        conn.request("POST", "/", body=body, headers=headers)
        conn.getresponse().read()
    conn.close()


def main():
    port = free_port()
    env = dict(os.environ, UPDRAFT_LISTEN=f"127.0.0.1:{port}", RUST_LOG="warn")
    proc = subprocess.Popen([BINARY], env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        body = "Action=DescribeInstances&Version=2016-11-15"
        requests(port, lambda i: {}, 1, body)
        time.sleep(1)
        print(f"idle after the first EC2 call: {rss_kib(proc.pid) / 1024:.1f} MiB")
        requests(port, lambda i: {"Authorization": auth("test", f"zz-fake-{i}")}, 5000, body)
        time.sleep(1)
        print(f"after 5,000 requests naming made-up regions: {rss_kib(proc.pid) / 1024:.1f} MiB")
        requests(port, lambda i: {"Authorization": auth(f"{100000000000 + i}", "us-east-1")},
                 5000, body)
        time.sleep(1)
        print(f"after 5,000 reads with new 12-digit keys: {rss_kib(proc.pid) / 1024:.1f} MiB")
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
        time.sleep(1)
        print(f"with 1,000 idle connections: {rss_kib(proc.pid) / 1024:.1f} MiB")
        for s in idle:
            s.close()
        slow = []
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 60_000
        for _ in range(500):
            s = socket.create_connection(("127.0.0.1", port))
            try:
                s.sendall(head)
            except OSError:
                pass
            slow.append(s)
        time.sleep(1)
        print(f"with 500 unfinished 60 KB heads: {rss_kib(proc.pid) / 1024:.1f} MiB")
        for s in slow:
            s.close()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
