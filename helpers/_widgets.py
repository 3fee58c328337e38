"""The file picker: an ipywidgets FileUpload with a headless twin for papermill and CI.

Widget callbacks never run under papermill, so every notebook also takes an ``upload_path``
parameter; ``choose_file`` returns that path, or the picked file, or a generated sample.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from ._errors import ConfigurationError


class FilePicker:
    """A FileUpload and a status line; ``saved_path()`` writes the picked file to disk.

    The browser sends the whole file over the kernel's websocket: ``make lab`` raises Jupyter's
    10 MiB message limit to 256 MiB; for larger files pass ``upload_path`` instead.
    """

    def __init__(self, description: str = "Choose a file") -> None:
        import ipywidgets as widgets

        self._upload = widgets.FileUpload(multiple=False, description=description)
        self._status = widgets.HTML("No file chosen yet.")
        self._box = widgets.VBox([self._upload, self._status])
        self._upload.observe(self._on_change, names="value")

    def _on_change(self, change: Any) -> None:
        files = change.new
        if files:
            item = files[0]
            self._status.value = f"Chosen: <b>{item['name']}</b> ({item['size']:,} bytes)."

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self._box._repr_mimebundle_(**kwargs)

    @property
    def chosen(self) -> dict | None:
        """The picked file's name, type, size and content, or None."""
        files = self._upload.value
        return files[0] if files else None

    def saved_path(self, folder: str | None = None) -> str | None:
        """Write the picked file to ``folder`` (a temporary one by default); None if none picked."""
        item = self.chosen
        if item is None:
            return None
        folder = folder or tempfile.mkdtemp(prefix="s3wb-picked-")
        path = os.path.join(folder, os.path.basename(item["name"]) or "upload.bin")
        with open(path, "wb") as handle:
            handle.write(bytes(item["content"]))
        return path


def show_picker(upload_path: str | None, description: str = "Choose a file") -> FilePicker | None:
    """A picker to display when no ``upload_path`` was given; None when running headless."""
    return None if upload_path else FilePicker(description)


def choose_file(upload_path: str | None, picker: FilePicker | None, *, fallback: str) -> str:
    """The file to upload: ``upload_path``, else the picked file, else ``fallback`` (a sample)."""
    if upload_path:
        if not os.path.isfile(upload_path):
            raise ConfigurationError(f"upload_path {upload_path!r} is not a file: fix the parameter")
        return upload_path
    picked = picker.saved_path() if picker is not None else None
    return picked or fallback
