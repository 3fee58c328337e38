"""Helpers for the S3 upload workbook: named boto3 steps, upload clients and widgets."""
__version__ = "0.1.0"
from ._errors import ConfigurationError, LocalAWSError, UploadRefused, WorkbookError

__all__ = ["ConfigurationError", "LocalAWSError", "UploadRefused", "WorkbookError", "__version__"]
