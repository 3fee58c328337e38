"""The Lambda runtime: execution environments as worker processes, kept warm and reused.

Each environment's process is forked by the zygote (zygote.py), which has imported boto3 and
read its common models once; the process then runs worker.py's loop, as a new Python process
running worker.py did before.

Supported: Python functions from zip packages (``module.function`` handlers, layers on the path),
environment variables, the execution role's temporary credentials from the local STS,
``AWS_ENDPOINT_URL`` pointing at the local AWS (so boto3 in a handler reaches it), the context
object, the configured timeout, logs in CloudWatch Logs (``/aws/lambda/{name}``), published
versions and aliases running the code they were published with, the package's file modes (a
module file others cannot read fails at import with Permission denied, as on AWS).

Limitations: every Python runtime runs on this machine's Python (3.11); no other languages,
container images, memory limits, concurrency limits, SnapStart or extensions; read permission
is checked for imported modules only (a data file the code opens itself is read anyway).

The function comes from the bridge's reader as a ``moto_bridge.LambdaFunction`` (its code,
layers and configuration copied out of moto); credentials from the local STS and log lines go
through the bridge too. Nothing here holds a moto object.
"""
from __future__ import annotations

import io
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from .. import iam_eval, moto_bridge

ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
# AWS gives the init phase 10 s before it fails the invocation.
INIT_TIMEOUT = 10.0
IDLE_SECONDS = 300.0
MAX_IDLE_PER_FUNCTION = 4
SESSION_SECONDS = 6 * 3600


@dataclass
class Invocation:
    """What one invocation produced."""

    request_id: str
    payload: bytes
    error: dict | None
    logs: str
    duration_ms: float
    init_ms: float | None = None
    executed_version: str = "$LATEST"

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class FunctionSpec:
    """What an execution environment is built from: the function version as the bridge read it,
    and where its logs go. Its fields read through (``spec.name``, ``spec.code``...);
    environments are shared only by specs with the same ``key``."""

    function: moto_bridge.LambdaFunction
    # Lambda@Edge functions log to /aws/lambda/us-east-1.{name} (a prefix Lambda@Edge adds), in
    # the Region of the edge location that ran them rather than the function's own.
    log_group: str = ""
    log_region: str = ""

    def __getattr__(self, name: str) -> Any:
        if name == "function":  # not set yet (copy, unpickle): no recursion
            raise AttributeError(name)
        return getattr(self.function, name)

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def log_region_name(self) -> str:
        return self.log_region or self.region

    @property
    def key(self) -> tuple:
        return (self.arn, self.version, self.code_sha, self.handler, self.runtime, self.role,
                self.timeout, self.memory, json.dumps(self.environment, sort_keys=True),
                tuple(hash(layer) for layer in self.layers))


def _extract(data: bytes, folder: str) -> None:
    """Extract a package keeping each entry's Unix mode, as Lambda does: a file that is not
    readable by others (``ZipFile.writestr("app.py", ...)`` gives 0600) cannot be imported by the
    runtime's user. The worker enforces that (it may run as root here); the owner's bits are set
    so that this process can still read and remove what it extracted. Entries without a Unix
    mode (``external_attr`` 0, as Windows tools write them) get 0644 (folders 0755)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
        for entry in archive.infolist():
            path = os.path.join(folder, entry.filename)
            if not os.path.lexists(path) or os.path.islink(path):
                continue
            unix = entry.external_attr >> 16
            if entry.is_dir():
                os.chmod(path, (unix & 0o777 if unix else 0o755) | 0o700)
            else:
                os.chmod(path, (unix & 0o777 if unix else 0o644) | 0o600)


class ForkedProcess:
    """An execution environment's process, a child of the zygote (so not of this process): its
    pipes, and what ExecutionEnvironment needs of a Popen (poll, wait, kill), through a pidfd."""

    def __init__(self, pid: int, stdin: Any, stdout: Any, stderr: Any) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (reaped at once by the zygote)
            self._pidfd = None
        self.returncode: int | None = None  # -1 once it has ended (its status is the zygote's)

    def _ended(self, timeout: float) -> bool:
        if self.returncode is None:
            if self._pidfd is not None:
                poller = select.poll()
                poller.register(self._pidfd, select.POLLIN)
                if not poller.poll(timeout * 1000):
                    return False
                os.close(self._pidfd)
                self._pidfd = None
            self.returncode = -1
        return True

    def poll(self) -> int | None:
        return self.returncode if self._ended(0) else None

    def wait(self, timeout: float) -> int | None:
        return self.returncode if self._ended(timeout) else None

    def kill(self) -> None:
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Zygote:
    """The process execution environments are forked from (zygote.py): Python and boto3 are
    imported once, not at every cold start. Started at the first cold start; restarted if it
    has died; stopped with the runtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._channel: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
               "TZ": ":UTC", "PYTHONUNBUFFERED": "1"}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-u", ZYGOTE, str(theirs.fileno())], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env, cwd="/", pass_fds=(theirs.fileno(),),
                start_new_session=True)
        finally:
            theirs.close()
        self._channel = ours

    def spawn(self, env: dict[str, str], cwd: str, paths: list[str]) -> ForkedProcess:
        """A new process with ``env`` in ``cwd`` running the worker; ``paths`` are the function's
        code and layer folders (a copy of boto3 there replaces the preloaded one)."""
        child_in, stdin = os.pipe()
        stdout, child_out = os.pipe()
        stderr, child_err = os.pipe()
        try:
            with self._lock:
                if self._process is None or self._process.poll() is not None:
                    self.stop_locked()  # a zygote that died: its socket goes with it
                    self._start()
                request = json.dumps({"env": env, "cwd": cwd, "paths": paths}).encode()
                try:
                    socket.send_fds(self._channel, [request], [child_in, child_out, child_err])
                    answer = self._channel.recv(4096)
                except OSError:
                    answer = b""
                if not answer:
                    self.stop_locked()
                    raise RuntimeError("the local Lambda's zygote process stopped; the next "
                                       "invocation starts a new one")
        except BaseException:
            for fd in (stdin, stdout, stderr):
                os.close(fd)
            raise
        finally:
            for fd in (child_in, child_out, child_err):
                os.close(fd)
        return ForkedProcess(json.loads(answer)["pid"],
                             open(stdin, "w", encoding="utf-8", buffering=1),
                             open(stdout, encoding="utf-8"),
                             open(stderr, encoding="utf-8", errors="replace"))

    def stop(self) -> None:
        with self._lock:
            self.stop_locked()

    def stop_locked(self) -> None:
        if self._channel is not None:
            self._channel.close()  # end of file: the zygote exits
            self._channel = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


class ExecutionEnvironment:
    """One worker process with the function's code extracted, its own credentials and log stream."""

    def __init__(self, spec: FunctionSpec, endpoint_url: str, zygote: Zygote) -> None:
        self.spec = spec
        self.folder = tempfile.mkdtemp(prefix="s3wb-lambda-")
        self.process: ForkedProcess | None = None
        try:
            self._start(spec, endpoint_url, zygote)
        except BaseException:
            # The folder holds the function's code and credentials: never leave it behind.
            self.close()
            raise

    def _start(self, spec: FunctionSpec, endpoint_url: str, zygote: Zygote) -> None:
        task_root = os.path.join(self.folder, "task")
        _extract(spec.code, task_root)
        layer_paths = []
        for index, layer in enumerate(spec.layers):
            path = os.path.join(self.folder, f"layer{index}")
            _extract(layer, path)
            layer_paths.append(path)
        credentials = moto_bridge.assume_role(spec.account, spec.role, spec.name, SESSION_SECONDS)
        self.log_stream = time.strftime("%Y/%m/%d/") + f"[{spec.version}]{uuid.uuid4().hex}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8", "TZ": ":UTC", "PYTHONUNBUFFERED": "1",
            "LAMBDA_TASK_ROOT": task_root, "_HANDLER": spec.handler,
            "_LAYER_PATHS": os.pathsep.join(layer_paths),
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_REGION": spec.region, "AWS_DEFAULT_REGION": spec.region,
            "AWS_ACCESS_KEY_ID": credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
            "AWS_SESSION_TOKEN": credentials.session_token,
            # The handler's boto3 reaches the local AWS without code changes.
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            **spec.environment,
        }
        started = time.time()
        self.process = zygote.spawn(env, task_root, [task_root] + [
            folder for path in layer_paths for folder in (os.path.join(path, "python"), path)])
        self._answers: queue.Queue = queue.Queue()
        self._stderr: list[str] = []
        self._printed: list[str] = []  # what the function printed since the last take
        self._printed_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_answers, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.last_used = time.time()
        ready = self._next_answer(INIT_TIMEOUT)
        self.init_ms = (time.time() - started) * 1000
        self.init_logs = self._take_printed()
        if ready is None:
            raise RuntimeError("the execution environment did not finish its init phase in 10 s")
        self.init_reported = False

    def _read_answers(self) -> None:
        # Printed text arrives before the answer it belongs to, on the same pipe, so by the time
        # an answer is queued everything printed before it has been collected.
        for line in self.process.stdout:  # type: ignore[union-attr]
            message = json.loads(line)
            if "log" in message:
                with self._printed_lock:
                    self._printed.append(message["log"])
            else:
                self._answers.put(message)
        self._answers.put(None)

    def _take_printed(self) -> str:
        with self._printed_lock:
            taken, self._printed = self._printed, []
        return "".join(taken)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:  # type: ignore[union-attr]
            self._stderr.append(line)

    def _next_answer(self, timeout: float) -> dict | None:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def invoke(self, event: str, request_id: str) -> Invocation:
        spec = self.spec
        context = {
            "request_id": request_id, "function_name": spec.name, "function_version": spec.version,
            "invoked_function_arn": spec.arn, "memory_limit_in_mb": spec.memory,
            "log_group_name": spec.log_group_name, "log_stream_name": self.log_stream,
        }
        started = time.time()
        self.process.stdin.write(json.dumps(  # type: ignore[union-attr]
            {"id": request_id, "event": event, "context": context, "timeout": spec.timeout}) + "\n")
        self.process.stdin.flush()  # type: ignore[union-attr]
        answer = self._next_answer(spec.timeout)
        duration = (time.time() - started) * 1000
        self.last_used = time.time()
        init_ms = None if self.init_reported else self.init_ms
        self.init_reported = True
        stray = "".join(self._stderr)
        self._stderr.clear()
        if answer is None:
            timed_out = self.alive
            self.close()
            self._reader.join(timeout=2)  # the pipe's last lines, written before the kill
            printed = self._take_printed()  # what it printed before the end still reaches the logs
            if timed_out:
                # The payload reads "RequestId: ... Error: Task timed out after 1.00 seconds"; the
                # log line is "<timestamp> <request id> Task timed out after 1.00 seconds"
                # (recorded against AWS, 2025-11).
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
                line = f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds"
                error = {"errorType": "Sandbox.Timedout", "errorMessage":
                         f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds"}
            else:
                line = f"RequestId: {request_id} Error: Runtime exited unexpectedly"
                error = {"errorMessage": line, "errorType": "Runtime.ExitError"}
            if printed and not printed.endswith("\n"):
                printed += "\n"
            return Invocation(request_id, json.dumps(error).encode(), error,
                              stray + printed + line + "\n", duration, init_ms, spec.version)
        if answer.get("exit"):
            self.close()
        error = answer.get("error")
        payload = json.dumps(error) if error else answer.get("payload") or "null"
        return Invocation(request_id, payload.encode(), error, stray + self._take_printed(),
                          duration, init_ms, spec.version)

    def close(self) -> None:
        if self.process is not None:
            if self.alive:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


class LambdaRuntime:
    """Runs invocations in warm environments when one is idle, starting a new one otherwise."""

    def __init__(self) -> None:
        self.endpoint_url = "http://127.0.0.1:4566"
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[ExecutionEnvironment]] = {}
        self._closed = False
        self._zygote = Zygote()
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap, daemon=True, name="lambda-reaper")
        self._reaper.start()

    def invoke(self, spec: FunctionSpec, event: str, request_id: str | None = None) -> Invocation:
        request_id = request_id or str(uuid.uuid4())
        environment = self._take(spec)
        try:
            result = environment.invoke(event, request_id)
        finally:
            self._give_back(environment)
        self._write_logs(spec, environment, result)
        return result

    def _take(self, spec: FunctionSpec) -> ExecutionEnvironment:
        with self._lock:
            idle = self._idle.get(spec.key, [])
            while idle:
                environment = idle.pop()
                if environment.alive:
                    return environment
                environment.close()
            if self._closed:
                raise RuntimeError("the local AWS is shutting down")
        return ExecutionEnvironment(spec, self.endpoint_url, self._zygote)

    def _give_back(self, environment: ExecutionEnvironment) -> None:
        if not environment.alive:
            environment.close()
            return
        with self._lock:
            if self._closed:  # in use while the runtime shut down: close it now
                environment.close()
                return
            idle = self._idle.setdefault(environment.spec.key, [])
            if len(idle) < MAX_IDLE_PER_FUNCTION:
                idle.append(environment)
                return
        environment.close()

    def _write_logs(self, spec: FunctionSpec, environment: ExecutionEnvironment, result: Invocation) -> None:
        lines = []
        if result.init_ms is not None and environment.init_logs:
            lines += environment.init_logs.splitlines()
        lines.append(f"START RequestId: {result.request_id} Version: {spec.version}")
        lines += result.logs.splitlines()
        lines.append(f"END RequestId: {result.request_id}")
        report = (f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\t"
                  f"Billed Duration: {max(1, int(result.duration_ms + 0.999))} ms\t"
                  f"Memory Size: {spec.memory} MB\tMax Memory Used: {spec.memory} MB")
        if result.init_ms is not None:
            report += f"\tInit Duration: {result.init_ms:.2f} ms"
        lines.append(report)
        result.logs = "\n".join(lines) + "\n"
        if not self._may_log(spec, environment.log_stream):
            return  # as on AWS: without logs permissions on its role, a function's logs are lost
        try:
            moto_bridge.put_log_lines(spec.account, spec.log_region_name, spec.log_group_name,
                                      environment.log_stream, lines,
                                      delivery_seconds=moto_bridge.EDGE_LOG_DELIVERY_SECONDS
                                      if spec.log_group else moto_bridge.LAMBDA_LOG_DELIVERY_SECONDS)
        except Exception:  # logs never change an invocation's outcome
            pass

    @staticmethod
    def _may_log(spec: FunctionSpec, stream: str) -> bool:
        """Lambda writes logs with the function's role: it needs logs:PutLogEvents (for example
        from the AWSLambdaBasicExecutionRole managed policy)."""
        role = moto_bridge.role_by_arn(spec.account, spec.role)
        if role is None:
            return False
        arn = (f"arn:aws:logs:{spec.log_region_name}:{spec.account}:log-group:{spec.log_group_name}"
               f":log-stream:{stream}")
        return iam_eval.evaluate("logs:PutLogEvents", arn,
                                 identity_policies=role.identity_policies).allowed

    def _reap(self) -> None:
        while not self._stopping.wait(10):
            now = time.time()
            with self._lock:
                stale = [(k, e) for k, envs in self._idle.items() for e in envs
                         if now - e.last_used > IDLE_SECONDS]
                for key, environment in stale:
                    self._idle[key].remove(environment)
            for _, environment in stale:
                environment.close()

    def reset(self) -> None:
        """Close every idle environment (the next invocations start cold)."""
        with self._lock:
            environments = [e for envs in self._idle.values() for e in envs]
            self._idle.clear()
        for environment in environments:
            environment.close()

    def shutdown(self) -> None:
        """Close all environments, including those in use when they come back, and stop."""
        with self._lock:
            self._closed = True
        self._stopping.set()
        self.reset()
        self._zygote.stop()
