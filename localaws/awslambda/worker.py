"""One Lambda execution environment (run as a script, in its own process).

The init phase imports the handler once; invocations then reuse it, so module-level state
survives between them as on AWS. Protocol with the parent (runtime.py): one JSON line per
invocation on stdin, one JSON line per answer on the original stdout; everything the handler
prints is captured per invocation and sent back as its log.

This file imports nothing from the workbook, so a cold start costs only Python's own start-up.
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
    """sys.stdout during an invocation: collects what the handler prints."""

    def __init__(self):
        self.parts = []

    def writable(self):
        return True

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def take(self):
        text, self.parts = "".join(self.parts), []
        return text


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


def _load_handler(spec):
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        return None, {"errorMessage": f"Bad handler '{spec}': not enough values to unpack "
                      "(expected 2, got 1)", "errorType": "Runtime.MalformedHandlerName",
                      "requestId": "", "stackTrace": []}
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # AWS reports import failures on every invocation
        return None, {"errorMessage": f"Unable to import module '{module_name}': {exc}",
                      "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
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
    os.chdir(task_root)

    capture = _Capture()
    sys.stdout = capture
    root = logging.getLogger()
    handler = _StdoutHandler()
    handler.setFormatter(_LambdaFormatter())
    root.addHandler(handler)

    started = time.time()
    function, init_error = _load_handler(os.environ["_HANDLER"])
    channel.write(json.dumps({"ready": True, "init_error": init_error, "logs": capture.take(),
                              "init_ms": (time.time() - started) * 1000}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["context"]["request_id"]
        deadline = time.time() + request["timeout"]
        answer = {"id": request["id"], "payload": None, "error": None}
        if init_error is not None:
            answer["error"] = {**init_error, "requestId": request_id}
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
                answer["error"] = {"errorMessage": f"RequestId: {request_id} Error: Runtime exited "
                                   f"with error: exit status {exc.code}",
                                   "errorType": "Runtime.ExitError"}
                answer["exit"] = True
            except Exception as exc:
                answer["error"] = _error(exc, request_id, skip_frames=1)
                print(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n"
                      + "".join(answer["error"]["stackTrace"]), end="")
            finally:
                logging.setLogRecordFactory(old_factory)
        answer["logs"] = capture.take()
        channel.write(json.dumps(answer) + "\n")
        if answer.get("exit"):
            return


if __name__ == "__main__":
    main()
