"""Start FFmpeg so that it never outlives hlskit.

``kill -9`` of hlskit runs no handler, so the child must be tied to its parent by the kernel.
Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child before exec (prctl(2)); the signal fires
when the *thread* that forked the child exits, so engines start FFmpeg from the thread that waits
for it. Ctrl-C and SIGTERM are held back while the child is being started, so the handler never
runs between fork and the moment the caller holds the Popen it must stop. Other systems have no
such call (macOS would need a kqueue watcher, Windows a job object with
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE); there the child is only stopped by hlskit's own handlers
(Ctrl-C, SIGTERM), and a kill -9 can leave it running until its encode ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SIG_SETMASK = 2  # <bits/sigaction.h>
_HELD = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent(parent: int) -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)
    empty = ctypes.create_string_buffer(128)  # an empty sigset_t (1024 bits on Linux)

    def preexec() -> None:  # runs in the child between fork and exec
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        libc.sigprocmask(SIG_SETMASK, empty, None)  # FFmpeg must see SIGINT/SIGTERM again
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def popen_tied(args: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen whose child is killed when this process dies (Linux), even by SIGKILL.

    A Ctrl-C or SIGTERM that arrives while the child starts is raised here once the child exists,
    after killing it, so no FFmpeg runs on unseen.
    """
    if not sys.platform.startswith("linux"):
        return subprocess.Popen(args, **kwargs)
    kwargs["preexec_fn"] = _die_with_parent(os.getpid())
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    proc = None
    try:
        proc = subprocess.Popen(args, **kwargs)
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # runs any held handler now
        except BaseException:
            if proc is not None:
                proc.kill()
                proc.wait()
            raise
    return proc
