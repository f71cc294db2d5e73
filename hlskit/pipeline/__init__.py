"""One package run: plan → start (claim the content id, keys) → engine → follow → finish.

finish = manifest → stitch → validate → publish → revoke the replaced package's keys → notify,
written once (pipeline/finish.py) for every engine and every caller.
"""

from .cancel import Cancelled, cancel
from .finish import PackageResult, RunCancelled
from .run import follow_runs, recover_runs, restitch, run_package, start_run, submit_package

__all__ = [
    "Cancelled",
    "cancel",
    "PackageResult",
    "RunCancelled",
    "follow_runs",
    "recover_runs",
    "restitch",
    "run_package",
    "start_run",
    "submit_package",
]
