"""The workbook's benchmark: how fast bytes flow through the local AWS, and how much memory it
takes, each figure next to its baseline measured in the same run on the same machine.

    python -m benchmarks [--size-mib 1024] [--repeat 5] [--chart benchmarks/latest.png]

Issue 13's rows: the same file through each client of the matrix (a presigned PUT from
`requests` and from curl, with and without the JavaScript SDK's `?x-id=PutObject`, boto3
`put_object` and `upload_file` with the default TransferConfig, `aws s3 cp`), each next to the
one-core MD5 rate (the floor: S3's ETag is the body's MD5), with the local AWS's peak memory
per client, and plain `moto_server` as the peer for the presigned PUT.

A fresh local AWS runs in its own process (as `make lab` runs it), so its peak memory is its
own. Figures, not tests: nothing here passes or fails except a byte-exactness check.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import boto3  # noqa: E402
import requests  # noqa: E402
from botocore.config import Config  # noqa: E402

import helpers as wb  # noqa: E402
import localaws as local  # noqa: E402

MB = 1e6
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int, field: str = "VmHWM") -> float:
    """Resident memory of a process (VmHWM: its peak so far), in MiB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakSampler:
    """Samples a process's resident memory every 20 ms; ``peak`` is the highest seen since
    ``reset`` (VmHWM cannot be reset, so each phase is sampled)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid, "VmRSS"))

    def reset(self) -> None:
        self.peak = rss_mib(self.pid, "VmRSS")

    def stop(self) -> None:
        self._stop.set()


def loopback_copy(path: str) -> float:
    """The ceiling: the file's bytes over a plain loopback TCP socket, in MB/s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = [0]

    def sink() -> None:
        conn, _ = server.accept()
        buffer = bytearray(MiB)
        view = memoryview(buffer)
        with conn:
            while n := conn.recv_into(view):
                received[0] += n

    thread = threading.Thread(target=sink)
    thread.start()
    began = time.perf_counter()
    with socket.create_connection(server.getsockname()) as client, open(path, "rb") as f:
        while chunk := f.read(MiB):
            client.sendall(chunk)
    thread.join()
    seconds = time.perf_counter() - began
    server.close()
    return received[0] / MB / seconds


def md5_rate(path: str) -> float:
    """How fast this machine computes MD5, which S3 needs for every ETag: a floor under the time
    of any upload, whatever the transport."""
    import hashlib

    digest, size = hashlib.md5(), 0
    began = time.perf_counter()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
            size += len(chunk)
    return size / MB / (time.perf_counter() - began)


def timed(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def curl_put(url: str, path: str) -> None:
    subprocess.run(["curl", "-sSf", "-o", os.devnull, "-T", path, url], check=True)


def moto_server_peer(path: str, repeat: int) -> tuple[float, float]:
    """Plain moto_server (what the local AWS is built on): (presigned PUT MB/s, peak RSS MiB)."""
    port = free_port()
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(endpoint + "/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        client.create_bucket(Bucket="peer")
        url = client.generate_presigned_url("put_object", Params={"Bucket": "peer", "Key": "big.bin"},
                                            ExpiresIn=3600, HttpMethod="PUT")
        size = os.path.getsize(path)
        seconds = statistics.median(timed(lambda: curl_put(url, path), repeat))
        return size / MB / seconds, rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def client_matrix(endpoint: str, bucket: str, signer, path: str, repeat: int, sampler, md5: float) -> list:
    """Issue 13's targets: each client's rate (median of ``repeat``) against the one-core MD5
    rate, and the local AWS's peak RSS while that client ran."""
    size = os.path.getsize(path)
    rows = []
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull}
    boto = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "m.bin"},
                                        ExpiresIn=3600, HttpMethod="PUT")
    # The JavaScript SDK's presigned URLs carry x-id=PutObject in the signed query.
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    x_id = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/x.bin?x-id=PutObject")
    S3SigV4QueryAuth(Credentials("test", "test"), "s3", "us-east-1", expires=3600).add_auth(x_id)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    clients = [
        ("presigned PUT, requests", lambda: wb.upload_file(url, path, progress=False), ">= 0.8x"),
        ("presigned PUT, curl", lambda: curl_put(url, path), ">= 0.8x"),
        ("presigned PUT ?x-id=PutObject, curl", lambda: curl_put(x_id.url, path), ""),
        ("boto3 put_object (default checksums)", lambda: boto.put_object(
            Bucket=bucket, Key="p.bin", Body=open(path, "rb")), ""),
        ("boto3 upload_file (default TransferConfig)", lambda: boto.upload_file(path, bucket, "u.bin"), ">= 1.0x"),
        ("aws s3 cp (AWS CLI v1)", lambda: subprocess.run(
            [aws, "--endpoint-url", endpoint, "s3", "cp", path, f"s3://{bucket}/cli.bin", "--quiet"],
            env=env, check=True), ""),
    ]
    mib = size // MiB
    for name, call, goal in clients:
        if "curl" in name and not shutil.which("curl"):
            continue
        sampler.reset()
        seconds = statistics.median(timed(call, repeat))
        rows.append((f"{mib} MiB {name}", size / MB / seconds, "MB/s", md5, goal))
        rows.append((f"  local AWS peak RSS, {name}", sampler.peak, "MiB", None, "<= 256"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="the large file (default 1024)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per client (median; default 5)")
    parser.add_argument("--chart", default=os.path.join(ROOT, "benchmarks", "latest.png"))
    args = parser.parse_args()
    size = args.size_mib * MiB
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = local.ensure_running(endpoint)
    pid = started["pid"]
    sampler = PeakSampler(pid)
    rows: list[tuple[str, float, str, float | None, str]] = []  # name, value, unit, baseline, target
    exact = True
    try:
        target = wb.connect("local", endpoint_url=endpoint, start=False)
        s3 = target.client("s3")
        signer = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        prefix = wb.unique_prefix()
        with tempfile.TemporaryDirectory() as folder:
            big = wb.make_sample_file(os.path.join(folder, "big.bin"), size, seed=3)
            nine = wb.make_sample_file(os.path.join(folder, "nine.bin"), 9 * 1000 * 1000, seed=4)
            big_sha = wb.sha256_file(big)

            ceiling = loopback_copy(big)
            rows.append(("loopback socket copy (ceiling)", ceiling, "MB/s", None, ""))
            md5 = md5_rate(big)
            rows.append(("MD5 of the file, one core (S3's ETag)", md5, "MB/s", ceiling, ""))
            peer_rate, peer_rss = moto_server_peer(big, args.repeat)
            rows.append((f"{args.size_mib} MiB presigned PUT, plain moto_server (peer)", peer_rate, "MB/s", md5, ""))
            rows.append(("  moto_server peak RSS", peer_rss, "MiB", None, ""))

            # 1 GiB presigned PUT, straight to S3
            bucket = wb.create_upload_bucket(f"{prefix}-bench", s3=s3, prefix=prefix)["bucket"]
            url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "big.bin"},
                                                ExpiresIn=3600, HttpMethod="PUT")
            sampler.reset()
            seconds = timed(lambda: wb.upload_file(url, big, progress=False), 1)[0]
            put_peak = sampler.peak
            rows.append((f"{args.size_mib} MiB presigned PUT", size / MB / seconds, "MB/s", ceiling, ">= 0.5x"))

            # 1 GiB multipart through the upload API (presigned part URLs)
            api = wb.build_multipart_api(target, prefix + "m")
            sampler.reset()
            began = time.perf_counter()
            done = wb.multipart_upload(api.invoke_url, big, threads=4, progress=False)
            seconds = time.perf_counter() - began
            multipart_peak = sampler.peak
            rows.append((f"{args.size_mib} MiB multipart ({done['parts']} parts)", size / MB / seconds,
                         "MB/s", ceiling, ">= 0.5x"))
            rows.append((f"local AWS peak RSS, {args.size_mib} MiB PUT", put_peak, "MiB", None, "<= 256"))
            rows.append((f"local AWS peak RSS, {args.size_mib} MiB multipart", multipart_peak, "MiB", None,
                         "<= 256"))
            rows += client_matrix(endpoint, bucket, signer, big, args.repeat, sampler, md5)

            # 9 MB: API Gateway proxy (option 1) against a direct S3 PUT
            proxy = wb.build_s3_proxy_api(target, prefix + "p")
            direct_url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "nine"},
                                                       ExpiresIn=3600, HttpMethod="PUT")
            direct = statistics.median(timed(lambda: wb.upload_file(direct_url, nine, progress=False), 7))
            via_proxy = statistics.median(timed(lambda: wb.upload_file(
                proxy.upload_url("nine"), nine, progress=False, headers={"x-api-key": proxy.api_key}), 7))
            rows.append(("9 MB PUT, direct to S3", direct * 1000, "ms", None, ""))
            rows.append(("9 MB PUT, API Gateway proxy", via_proxy * 1000, "ms", direct * 1000, "<= 1.3x"))

            # CloudFront with a viewer-request edge function (option 3)
            secret = os.urandom(16).hex()
            cf = wb.build_cloudfront_upload(target, prefix + "c", secret=secret)
            via_cf = statistics.median(timed(lambda: wb.upload_file(
                f"{cf.url}/nine", nine, progress=False, headers={"Authorization": secret}), 7))
            rows.append(("9 MB PUT, CloudFront + Lambda@Edge", via_cf * 1000, "ms", direct * 1000, ""))

            # Lambda through API Gateway (option 2's presign function): cold and warm
            presign = wb.build_presign_api(target, prefix + "l")
            lam = target.client("lambda")
            grant = presign.grant_url("f.txt")
            cold = []
            for n in range(10):  # a configuration change retires the warm environments
                lam.update_function_configuration(FunctionName=presign.function_name, Description=f"cold {n}",
                                                  Environment={"Variables": {
                                                      **lam.get_function_configuration(
                                                          FunctionName=presign.function_name)
                                                      ["Environment"]["Variables"], "BENCH_RUN": str(n)}})
                cold += timed(lambda: wb.request_upload_url(grant, content_type="text/plain"), 1)
            warm = timed(lambda: wb.request_upload_url(grant, content_type="text/plain"), 50)
            rows.append(("Lambda via API, cold p50", statistics.median(cold) * 1000, "ms", None, "<= 300"))
            rows.append(("Lambda via API, cold p95", percentile(cold, 95) * 1000, "ms", None, ""))
            rows.append(("Lambda via API, warm p50", statistics.median(warm) * 1000, "ms", None, "<= 10"))
            rows.append(("Lambda via API, warm p95", percentile(warm, 95) * 1000, "ms", None, ""))

            rows.append(("local AWS peak RSS, whole run (before reads)", rss_mib(pid), "MiB", None, ""))
            rows.append(("client peak RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB",
                         None, ""))
            # Byte-exactness last (reading back is streamed too, but is not what is measured).
            exact = (wb.object_sha256(bucket, "big.bin", s3=s3) == big_sha
                     and wb.object_sha256(api.bucket, done["key"], s3=s3) == big_sha)
        for p in (prefix, prefix + "m", prefix + "p", prefix + "c", prefix + "l"):
            wb.clean_up(target, p)
    finally:
        sampler.stop()
        os.kill(pid, 15)
    print(f"benchmark {time.strftime('%Y-%m-%d')} on {platform.machine()} Linux, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'measure':58} {'value':>10}  {'unit':5} {'ratio':>8}  target")
    for name, value, unit, baseline, goal in rows:
        ratio = f"{value / baseline:.2f}x" if baseline else ""
        print(f"{name:58} {value:10.1f}  {unit:5} {ratio:>8}  {goal}")
    print(f"byte-exact: {exact}")
    chart(rows, args.chart)
    return 0 if exact else 1


def chart(rows: list, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no chart)")
        return
    groups = [("MB/s", "throughput (MB/s)"), ("ms", "latency (ms)"), ("MiB", "memory (MiB)")]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for ax, (unit, title) in zip(axes, groups):
        chosen = [(n, v) for n, v, u, _, _ in rows if u == unit]
        ax.barh([n for n, _ in chosen], [v for _, v in chosen], color="#4c72b0")
        ax.set_title(title)
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"chart: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
