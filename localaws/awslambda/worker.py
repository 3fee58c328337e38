"""One Lambda execution environment: ``main`` runs in its own process, forked by the zygote
(zygote.py), or as a script.

The init phase imports the handler once; invocations then reuse it, so module-level state
survives between them as on AWS. Protocol with the parent (runtime.py): one JSON line per
invocation on stdin, one JSON line per answer on the original stdout; what the handler prints
is sent as it is printed, in ``{"log": ...}`` lines before the answer.

This file imports nothing from the workbook: the zygote imports it once, with boto3.
"""
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback


class _Capture(io.TextIOBase):
    """sys.stdout while the function runs: what the handler prints goes to the parent at once
    (a ``{"log": ...}`` line), so that it reaches CloudWatch Logs even when the invocation then
    times out and this process is killed, as on AWS."""

    def __init__(self, channel):
        self.channel = channel

    def writable(self):
        return True

    def write(self, text):
        if text:
            self.channel.write(json.dumps({"log": text}) + "\n")
        return len(text)


class _ReadableByOthers:
    """A meta-path finder that refuses, as Lambda does, to import a module file of the package
    (or of a layer) that others may not read: Lambda runs the code as a user that is neither the
    file's owner nor in its group, so a file without the o+r bit gives "[Errno 13] Permission
    denied: '/var/task/NAME.py'" (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html).
    This process may run as root, which reads everything, so the bit is checked here."""

    def __init__(self, roots):
        self.roots = [(os.path.join(folder, ""), shown) for folder, shown in roots]

    def find_spec(self, fullname, path=None, target=None):
        from importlib.machinery import PathFinder

        # Only the package's and the layers' folders are looked at (the standard library and
        # site-packages are readable): the usual finders then import what this one lets through.
        inside = [entry for entry in (sys.path if path is None else path)
                  if any(os.path.join(entry, "").startswith(folder) for folder, _ in self.roots)]
        spec = PathFinder.find_spec(fullname, inside) if inside else None
        origin = getattr(spec, "origin", None) if spec is not None else None
        if not origin or not os.path.isfile(origin):
            return None
        for folder, shown in self.roots:
            if origin.startswith(folder) and not os.stat(origin).st_mode & 0o004:
                raise ImportError(f"[Errno 13] Permission denied: "
                                  f"'{shown}/{origin[len(folder):]}'", name=fullname, path=origin)
        return None  # readable: the usual finders import it


class LambdaContext:
    """The context object handlers receive (the attributes AWS's Python runtime provides)."""

    def __init__(self, data, deadline):
        self.aws_request_id = data["request_id"]
        self.function_name = data["function_name"]
        self.function_version = data["function_version"]
        self.invoked_function_arn = data["invoked_function_arn"]
        self.memory_limit_in_mb = str(data["memory_limit_in_mb"])
        self.log_group_name = data["log_group_name"]
        self.log_stream_name = data["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


class _LambdaFormatter(logging.Formatter):
    def format(self, record):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return (f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t"
                f"{getattr(record, 'aws_request_id', '')}\t{record.getMessage()}")


class _StdoutHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record) + "\n")


def _error(exc, request_id, skip_frames=0):
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    # Paths as they read on AWS, where the function's code lives in /var/task.
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "")
    trace = [line.replace(task_root, "/var/task") if task_root else line
             for line in traceback.format_list(frames)]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "requestId": request_id, "stackTrace": trace}


def _exit_message(code):
    # As AWS words an exit of the runtime process (recorded 2025-11): exit status 0 gives no
    # reason; another status is named. "{request_id}" is filled in per invocation.
    if code in (0, None):
        return "RequestId: {request_id} Error: Runtime exited without providing a reason"
    return f"RequestId: {{request_id}} Error: Runtime exited with error: exit status {code}"


def _load_handler(spec):
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        return None, {"errorMessage": f"Bad handler '{spec}': not enough values to unpack "
                      "(expected 2, got 1)", "errorType": "Runtime.MalformedHandlerName",
                      "requestId": "", "stackTrace": []}
    # As AWS's Python runtime reports init failures (on every invocation): a module that cannot
    # be found or imports something missing is Runtime.ImportModuleError, a syntax error
    # Runtime.UserCodeSyntaxError, and any other exception raised while the module runs is
    # reported as itself: its own type, message and stack trace (recorded against AWS:
    # ``raise Exception("Runtime startup fails")`` gives errorType "Exception").
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return None, {"errorMessage": f"Unable to import module '{module_name}': {exc}",
                      "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    except SyntaxError as exc:
        trace = [f'  File "/var/task/{os.path.basename(exc.filename or "")}" Line {exc.lineno}\n'
                 f"    {(exc.text or '').strip()}\n"]
        return None, {"errorMessage": f"Syntax error in module '{module_name}': {exc}",
                      "errorType": "Runtime.UserCodeSyntaxError", "requestId": "", "stackTrace": trace}
    except SystemExit as exc:
        return None, {"errorType": "Runtime.ExitError", "errorMessage": _exit_message(exc.code),
                      "exit": True}
    except Exception as exc:
        return None, {**_error(exc, ""), "requestId": ""}
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {"errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
                      "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
    return handler, None


def main():
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray writes to fd 1 (C code, subprocesses) must not corrupt the channel
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    layers = [p for p in os.environ.get("_LAYER_PATHS", "").split(os.pathsep) if p]
    # Lambda puts the function's code first, then layers' python/ folders (/opt/python).
    sys.path[:0] = [task_root] + [os.path.join(p, "python") for p in layers] + layers
    # Layers are extracted to /opt on AWS, the package to /var/task.
    sys.meta_path.insert(0, _ReadableByOthers([(task_root, "/var/task")] + [(p, "/opt") for p in layers]))
    os.chdir(task_root)

    capture = _Capture(channel)
    sys.stdout = capture
    root = logging.getLogger()
    handler = _StdoutHandler()
    handler.setFormatter(_LambdaFormatter())
    root.addHandler(handler)

    started = time.time()
    function, init_error = _load_handler(os.environ["_HANDLER"])
    channel.write(json.dumps({"ready": True, "init_error": init_error,
                              "init_ms": (time.time() - started) * 1000}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["context"]["request_id"]
        deadline = time.time() + request["timeout"]
        answer = {"id": request["id"], "payload": None, "error": None}
        if init_error is not None and init_error.get("exit"):
            answer["error"] = {"errorType": init_error["errorType"],
                               "errorMessage": init_error["errorMessage"].format(request_id=request_id)}
            answer["exit"] = True
        elif init_error is not None:
            answer["error"] = dict(init_error)  # requestId "": the init phase had none (recorded)
        else:
            context = LambdaContext(request["context"], deadline)
            old_factory = logging.getLogRecordFactory()

            def factory(*args, **kwargs):
                record = old_factory(*args, **kwargs)
                record.aws_request_id = request_id
                return record
            logging.setLogRecordFactory(factory)
            try:
                result = function(json.loads(request["event"]), context)
                try:
                    answer["payload"] = json.dumps(result)
                except (TypeError, ValueError) as exc:
                    answer["error"] = {"errorMessage": f"Unable to marshal response: {exc}",
                                       "errorType": "Runtime.MarshalError", "requestId": request_id,
                                       "stackTrace": []}
            except SystemExit as exc:
                answer["error"] = {"errorType": "Runtime.ExitError",
                                   "errorMessage": _exit_message(exc.code).format(request_id=request_id)}
                answer["exit"] = True
            except Exception as exc:
                answer["error"] = _error(exc, request_id, skip_frames=1)
                print(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n"
                      + "".join(answer["error"]["stackTrace"]), end="")
            finally:
                logging.setLogRecordFactory(old_factory)
        channel.write(json.dumps(answer) + "\n")
        if answer.get("exit"):
            return


if __name__ == "__main__":
    main()
