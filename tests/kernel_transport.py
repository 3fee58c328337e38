"""Kernels for the suite's notebook runs (nbval and papermill) over Unix sockets, not TCP ports.

Over TCP, jupyter_client picks a kernel's five ports in the test process (it binds port 0 and
lets go), writes them to the connection file, and the kernel binds them a second later. With eight
workers starting kernels, local AWSs, JupyterLabs and thousands of client connections at once,
another process can take one of those ports in between: the kernel then dies at start
("Address already in use"). A full run once stopped on nbval's "Kernel didn't respond in 60
seconds", most likely the same race. Measured with four processes starting kernels back to
back through nbval's own start: over TCP 2 of 480 kernels died so; over Unix sockets none of
400. tests/test_workbook_tools.py checks that the suite's kernels use them.

Imported as ``tests.kernel_transport`` everywhere (the root conftest.py patches nbval with it),
so that the suite has one copy of the module.

A Unix socket path of the kernel's own cannot be taken by anybody else. A learner's kernel is
not affected: JupyterLab and a learner's own papermill keep jupyter_client's TCP default.
"""
import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager, KernelManager


class _OverIpc:
    """The kernel listens on Unix sockets in a folder of its own (short, so that the socket paths
    stay under the 107-byte limit), removed with the kernel's other files."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        # jupyter_client's own ip for ipc is "kernel-ipc", relative to each process's working
        # folder: the kernel (started in the notebook's folder) and its client would not meet,
        # and two kernels started in one folder would share it.
        kwargs.setdefault("ip", os.path.join(tempfile.mkdtemp(prefix="kernel-"), "ipc"))
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)


class KernelOverIpc(_OverIpc, KernelManager):
    """For nbval, which starts its kernels with the blocking manager."""


class AsyncKernelOverIpc(_OverIpc, AsyncKernelManager):
    """For papermill (nbclient), which uses the asynchronous one."""
