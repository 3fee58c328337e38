"""Who is listening: the name and version a local AWS reports in its health record
(``/_aws/health``), so that a caller can tell it from another program on the port.

A module of its own, at the bottom, so that server.py need not import the package root that
starts it (the root imports server.py, not the reverse).
"""

__version__ = "0.1.0"
SERVICE_NAME = "s3-upload-workbook-local-aws"
