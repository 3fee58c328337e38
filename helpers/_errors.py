"""The workbook's exceptions, one family::

    WorkbookError
    ├── ConfigurationError (also ValueError)   a setting or argument is wrong: fix it and re-run
    ├── LocalAWSError (also RuntimeError)      the local AWS cannot start or cannot be reached
    └── UploadRefused                          the API or S3 refused a request: .status, .code, .message
"""
from __future__ import annotations


class WorkbookError(Exception):
    """Base of every error the helpers raise on purpose."""


class ConfigurationError(WorkbookError, ValueError):
    """A setting or argument is invalid; the message names the valid values."""


class LocalAWSError(WorkbookError, RuntimeError):
    """The local AWS could not be started or reached."""


class UploadRefused(WorkbookError):
    """An upload was refused; keeps AWS's status, error code and message."""

    def __init__(self, status: int, code: str | None, message: str, *, body: bytes = b"") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        super().__init__(f"{status} {code or ''}: {message}".replace("  ", " "))
