"""Where the distributed stages run: a Ray session, local or on an existing cluster.

`corpus ingest --engine ray` and `corpus sample --engine ray` run on Ray Data. Ray is an
optional extra (`pip install 'corpus-tools[ray]'`): the single-machine default never imports
it, and asking for the Ray engine without it is a UsageError (exit 2) saying what to install.

`ray_session(address=None)` starts a local Ray instance for the run (its CPUs: `num_cpus`, else
all of the machine's; no dashboard; usage statistics off; its temp folder a short path of our
own, because Ray's socket paths have a length limit) and shuts it down afterwards, leaving no
process behind. With `address` ("ray://host:10001", "host:6379" or "auto") it connects to an
existing cluster and only disconnects. A session already open in this process (a test's, a
notebook's) is used as it is and left open. For a session of its own, Ray's INFO and WARNING
log lines are silenced (`_quiet`): a CLI user sees Ray's messages only when something fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus_tools.constants import ENGINES, Engine
from corpus_tools.errors import UsageError

__all__ = ["ENGINES", "RAY_EXTRA", "Engine", "import_ray", "ray_session", "scratch_path"]
RAY_EXTRA = "pip install 'corpus-tools[ray]'"


def import_ray() -> Any:
    """The `ray` module with Ray Data, or a UsageError naming the extra to install."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise UsageError(
            f"--engine ray needs Ray Data, which is not installed ({exc.msg})",
            hint=f"Install the optional extra: {RAY_EXTRA} (or `scripts/setup.sh --test`).",
        ) from None
    return ray


@contextlib.contextmanager
def ray_session(
    address: str | None = None, *, num_cpus: int | None = None, progress: bool = False
) -> Iterator[Any]:
    """A Ray session for one run (see the module docstring); yields the `ray` module."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = import_ray()
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = False
    if ray.is_initialized():  # the caller's session, with its own logging
        yield ray
        return
    _quiet()
    temp: str | None = None
    kwargs: dict[str, Any] = {
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    if address is None:
        temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp" if os.path.isdir("/tmp") else None)
        kwargs.update(num_cpus=num_cpus, include_dashboard=False, _temp_dir=temp)
    try:
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UsageError(
                f"cannot reach the Ray cluster at {address!r}: {exc}"
                if address
                else f"cannot start a local Ray instance: {exc}",
                hint="Check --address (e.g. ray://head:10001, or `auto` on a cluster node).",
            ) from None
        try:
            yield ray
        finally:
            ray.shutdown()
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _quiet() -> None:
    """Keep Ray's INFO and WARNING lines (token auth, tips, "execution finished", progress
    bars disabled) off a CLI user's terminal: errors still show, and a failed task is raised
    as an exception with its traceback text."""
    for name in ("ray", "ray.data", "ray.serve", "ray.train", "ray.tune"):
        logging.getLogger(name).setLevel(logging.ERROR)


def scratch_path(path: Path) -> str:
    """A path as Ray workers see it (absolute: workers do not share our working folder)."""
    return str(path.resolve())
