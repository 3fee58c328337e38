"""Upload a large file through the multipart upload API (presigned part URLs) on a fresh local
AWS running in its own process; print throughput and the peak memory of client and server.

    python -m benchmarks.multipart [--size-mib 1024] [--threads 4] [--part-mib 8]
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import helpers as wb  # noqa: E402
from helpers import local  # noqa: E402


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--part-mib", type=int, default=8)
    args = parser.parse_args()
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = local.ensure_running(endpoint)
    try:
        target = wb.connect("local", endpoint_url=endpoint, start=False)
        prefix = wb.unique_prefix()
        api = wb.build_multipart_api(target, prefix, part_size=args.part_mib * 1024 * 1024)
        with tempfile.TemporaryDirectory() as folder:
            path = wb.make_sample_file(os.path.join(folder, "bench.bin"), args.size_mib * 1024 * 1024)
            client_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            began = time.perf_counter()
            done = wb.multipart_upload(api.invoke_url, path, threads=args.threads, progress=False)
            seconds = time.perf_counter() - began
            ok = wb.object_sha256(api.bucket, done["key"], s3=target.client("s3")) == wb.sha256_file(path)
        server_peak = peak_rss_mib(started["pid"])
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        wb.clean_up(target, prefix)
    finally:
        os.kill(started["pid"], 15)
    size_mb = args.size_mib * 1024 * 1024 / 1e6
    print(f"multipart upload of {args.size_mib} MiB in {done['parts']} parts, {args.threads} threads")
    print(f"  time                 {seconds:8.2f} s")
    print(f"  throughput           {size_mb / seconds:8.1f} MB/s")
    print(f"  local AWS peak RSS   {server_peak:8.0f} MiB")
    print(f"  client peak RSS      {client_peak:8.0f} MiB (before the upload: {client_before:.0f} MiB)")
    print(f"  byte-exact           {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
