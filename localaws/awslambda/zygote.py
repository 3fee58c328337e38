"""The execution environments' common parent (run as a script, in its own process).

A cold start used to be a new Python process that imported boto3 itself: a fifth of a second of
CPU each, most of the local Lambda's cost. This process imports the worker and the runtime's
SDK (boto3, as AWS's Python runtimes include it) once, then forks one child per execution
environment on request. Each child is its own process, as before: its own session, pipes,
environment variables, working folder and module state, and the worker's protocol is unchanged
(worker.py).

Protocol with the parent (runtime.py), over the UNIX socket whose descriptor is the first
argument (SOCK_SEQPACKET, one message per request): the request is a JSON object
``{"env": {...}, "cwd": "...", "paths": [...]}`` sent with three file descriptors (the child's
stdin, stdout and stderr); the answer is
``{"pid": N}``. The child's exit is the parent's to watch (a pidfd). End of file on the socket
(the parent has gone) ends this process; running children are left to the parent, which kills
their process groups.

A function that ships its own copy of a preloaded package (boto3 in its zip or a layer, as AWS
recommends for pinning a version) gets its own: the child drops the preloaded SDK before the
worker puts the package on sys.path, so the function's copy is imported as on AWS.
"""
import json
import os
import signal
import socket
import sys
import sysconfig
import time

import worker  # noqa: E402 (this folder is sys.path[0]: the script's own)

_before = set(sys.modules)
import boto3  # noqa: E402,F401  the runtime's SDK
import boto3.s3.transfer  # noqa: E402,F401  what a first client and presigned URL import
import s3transfer.subscribers  # noqa: E402,F401

# The installed packages among what boto3 brought in (boto3, botocore, s3transfer, urllib3, ...):
# a function may ship its own copy of those. The standard modules it brought in stay: AWS's
# runtime interface client imports http.client (and with it email) before the handler, so a
# module of the function with such a name does not replace those there either.
_SITE = tuple(os.path.join(sysconfig.get_paths()[kind], "") for kind in ("purelib", "platlib"))
PRELOADED_TOP = sorted({
    name.split(".")[0] for name in set(sys.modules) - _before
    if (getattr(sys.modules.get(name.split(".")[0]), "__file__", None) or "").startswith(_SITE)})
PRELOADED = sorted(name for name in set(sys.modules) - _before
                   if name.split(".")[0] in PRELOADED_TOP)

# boto3's default session, with the models of the services handlers call most already read
# (a first S3 client reads some megabytes of JSON: about 150 ms of a cold start). Nothing in it
# depends on the environment: region, credentials and endpoint are read from the variables when
# the handler makes its client, in the child, where they are the function's.
boto3.setup_default_session()
_loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")
for _service in ("s3", "sts"):
    _loader.load_service_model(_service, "service-2")
    _loader.load_service_model(_service, "endpoint-rule-set-1")
_loader.load_data("partitions")
boto3.DEFAULT_SESSION._session.get_component("endpoint_resolver")


def _shadowed(paths):
    """Whether the function's package or a layer has its own copy of a preloaded package (a
    package folder, a module, or an extension module named after it)."""
    for folder in paths:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            top = entry.split(".", 1)[0]
            if top in PRELOADED_TOP and (entry.endswith((".py", ".so"))
                                         or os.path.isdir(os.path.join(folder, entry))):
                return True
    return False


def _child(request, fds):
    """In the forked child: become the execution environment and run the worker's loop."""
    # The zygote lets the kernel reap its children; a handler's subprocesses are its to wait for.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    sys.argv = [worker.__file__]
    if _shadowed(request["paths"]):
        for name in PRELOADED:
            sys.modules.pop(name, None)
    worker.main()


def serve(channel):
    # Children are reaped by the kernel: their exit is seen by the parent through a pidfd.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
        except (ConnectionResetError, OSError):
            return
        if not message:
            return
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                channel.close()
                _child(request, fds)
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        for fd in fds:
            os.close(fd)
        channel.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
