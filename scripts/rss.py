#!/usr/bin/env python3
"""Resident memory (VmRSS) of an Updraft server under hostile or heavy load (issue #20's figures).

Starts the given binary on a free loopback port, makes one EC2 call, prints VmRSS idle after
it, then runs the chosen mode:

    scripts/rss.py idle    [BINARY]           # only the idle figure
    scripts/rss.py hostile [BINARY]           # 5,000 made-up regions, 5,000 new 12-digit keys,
                                              # 1,000 idle connections, 500 unfinished 60 KB heads
    scripts/rss.py burst   [BINARY]           # 8 concurrent 1 MB PutMetricData (AWS's largest):
                                              # peak, right after, and 10 s later
    scripts/rss.py burst BINARY --datums 100000 --pad 0   # 8 x 3.6 MB, the probe's
    scripts/rss.py sse     [BINARY]           # 30 console event streams held open 30 s: the
                                              # server's CPU time meanwhile (issue #15's figure)
    scripts/rss.py sections [BINARY]          # which of the binary's sections are resident
                                              # (file pages, and pages relocation made private)
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 scripts/rss.py burst ...   # another allocator

BINARY defaults to target/release/updraft.
"""

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def rss_parts(pid):
    """VmRSS and its parts (RssAnon, RssFile, RssShmem), KiB."""
    parts = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                parts[key] = int(line.split()[1])
    return parts


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The binary on a free port, up and answering, with one EC2 call made."""

    def __init__(self, binary, extra_args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, RUST_LOG="warn")
        self.proc = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{self.port}", *extra_args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(400):
            try:
                urllib.request.urlopen(self.url + "_updraft/health", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"{binary} exited with {self.proc.returncode}")
                time.sleep(0.05)
        self.requests(lambda i: {}, 1, "Action=DescribeInstances&Version=2016-11-15")

    def rss(self):
        return rss_kib(self.proc.pid)

    def requests(self, headers_for, n, body):
        """`n` form requests in a row over one keep-alive connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        for i in range(n):
            conn.request("POST", "/", body=body, headers={**FORM, **headers_for(i)})
            conn.getresponse().read()
        conn.close()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def auth(key, region, service="ec2"):
    return (f"AWS4-HMAC-SHA256 Credential={key}/20261206/{region}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00")


def hostile(server, _args):
    body = "Action=DescribeInstances&Version=2016-11-15"
    server.requests(lambda i: {"Authorization": auth("test", f"zz-fake-{i}")}, 5000, body)
    time.sleep(1)
    print(f"after 5,000 requests naming made-up regions: {mib(server.rss())}")
    server.requests(lambda i: {"Authorization": auth(f"{100000000000 + i}", "us-east-1")},
                    5000, body)
    time.sleep(1)
    print(f"after 5,000 reads with new 12-digit keys: {mib(server.rss())}")
    idle = [server.connect() for _ in range(1000)]
    time.sleep(1)
    print(f"with 1,000 idle connections: {mib(server.rss())}")
    for s in idle:
        s.close()
    slow = []
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 60_000
    for _ in range(500):
        s = server.connect()
        try:
            s.sendall(head)
        except OSError:
            pass
        slow.append(s)
    time.sleep(1)
    print(f"with 500 unfinished 60 KB heads: {mib(server.rss())}")
    for s in slow:
        s.close()


def metric_form(datums, pad):
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
    req = urllib.request.Request(url, data=data, headers=FORM)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            out.append(r.status)
    except urllib.error.HTTPError as e:
        out.append(e.code)
    except OSError as e:  # the server may answer and close before the body is sent
        out.append(type(e).__name__)


def burst(server, args):
    idle = server.rss()
    data = metric_form(args.datums, args.pad)
    for _ in range(args.rounds):
        statuses = []
        threads = [threading.Thread(target=post, args=(server.url, data, statuses))
                   for _ in range(args.burst)]
        peak = idle
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, server.rss())
            time.sleep(0.01)
        after = server.rss()
        time.sleep(args.wait)
        later = server.rss()
        print(
            f"request {len(data)} B x {args.burst} -> {sorted(set(map(str, statuses)))}: "
            f"peak {mib(peak)}, after {mib(after)}, {args.wait:.0f} s later {mib(later)}"
        )


def cpu_seconds(pid):
    """User + system CPU time of the process so far (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sse(server, args):
    streams = []
    for _ in range(args.clients):
        c = socket.create_connection(("127.0.0.1", server.port))
        c.sendall(b"GET /_updraft/events?access_key=test HTTP/1.1\r\nHost: x\r\n"
                  b"Accept: text/event-stream\r\n\r\n")
        streams.append(c)
    for c in streams:
        c.settimeout(5)
        head = c.recv(4096)
        if not head.startswith(b"HTTP/1.1 200") or b"text/event-stream" not in head:
            sys.exit(f"an event stream was not opened: {head[:200]!r}")
    time.sleep(1)
    before = cpu_seconds(server.proc.pid)
    time.sleep(args.seconds)
    used = cpu_seconds(server.proc.pid) - before
    print(
        f"{args.clients} idle event streams for {args.seconds:.0f} s: server CPU {used * 1000:.0f} ms "
        f"({100 * used / args.seconds:.2f} % of one core), RSS {mib(server.rss())}"
    )
    for c in streams:
        c.close()


def elf_sections(binary):
    """(name, file offset, size) of each allocated section, from `readelf -SW`."""
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True,
                         check=True).stdout
    sections = []
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("[") or line.startswith("[Nr]"):
            continue
        fields = line.split("]", 1)[1].split()
        if len(fields) < 6 or fields[1] == "NOBITS":
            continue
        name, off, size = fields[0], int(fields[3], 16), int(fields[4], 16)
        if size:
            sections.append((name, off, size))
    return sections


def resident_pages(pid, path):
    """File offsets of the binary's resident pages: {offset: 'file' or 'anon'} (anon: made
    private by a write, e.g. relocation), from /proc/PID/maps and /proc/PID/pagemap."""
    page = os.sysconf("SC_PAGE_SIZE")
    pages = {}
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            fields = line.split()
            if len(fields) < 6 or os.path.realpath(fields[5]) != path:
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
            pagemap.seek(start // page * 8)
            data = pagemap.read((end - start) // page * 8)
            for i in range(len(data) // 8):
                entry = int.from_bytes(data[i * 8:i * 8 + 8], "little")
                if entry >> 63 & 1:  # present
                    pages[offset + i * page] = "file" if entry >> 61 & 1 else "anon"
    return pages


def sections(server, args):
    path = os.path.realpath(args.binary)
    parts = rss_parts(server.proc.pid)
    print("  ".join(f"{k} {mib(v)}" for k, v in parts.items()))
    pages = resident_pages(server.proc.pid, path)
    page = os.sysconf("SC_PAGE_SIZE")
    print(f"{path}: {os.path.getsize(path) / 1048576:.1f} MiB on disk, "
          f"{len(pages) * page / 1048576:.1f} MiB resident")
    print(f"{'section':<24} {'size KiB':>10} {'resident KiB':>13} {'of which private':>17}")
    for name, off, size in elf_sections(path):
        first, last = off // page * page, (off + size - 1) // page * page
        hit = [pages[o] for o in range(first, last + page, page) if o in pages]
        if size >= 16 * 1024 or hit:
            print(f"{name:<24} {size / 1024:>10.0f} {len(hit) * page / 1024:>13.0f} "
                  f"{hit.count('anon') * page / 1024:>17.0f}")


MODES = {"idle": None, "hostile": hostile, "burst": burst, "sse": sse, "sections": sections}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=MODES)
    p.add_argument("binary", nargs="?", default="target/release/updraft")
    g = p.add_argument_group("burst")
    g.add_argument("--datums", type=int, default=1000)
    g.add_argument("--pad", type=int, default=870,
                   help="bytes of each datum's dimension value (0: no dimension)")
    g.add_argument("--burst", type=int, default=8)
    g.add_argument("--wait", type=float, default=10.0)
    g.add_argument("--rounds", type=int, default=1,
                   help="bursts in a row (memory must not keep growing)")
    g = p.add_argument_group("sse")
    g.add_argument("--clients", type=int, default=30)
    g.add_argument("--seconds", type=float, default=30.0)
    g.add_argument("--time-scale", default="1",
                   help="the virtual clock's speed (0: frozen, nothing changes)")
    args = p.parse_args()

    # The probe's 3.6 MB requests are over the default body limit.
    server = Server(args.binary, ["--max-body-bytes", str(8 * 1024 * 1024),
                                  "--time-scale", args.time_scale])
    try:
        time.sleep(1)
        parts = rss_parts(server.proc.pid)
        print(f"idle after the first EC2 call: {mib(server.rss())} (" +
              ", ".join(f"{k} {mib(v)}" for k, v in parts.items() if k != "VmRSS") + ")")
        if MODES[args.mode]:
            MODES[args.mode](server, args)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
