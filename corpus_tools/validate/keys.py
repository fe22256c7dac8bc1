"""Duplicate keys in one JSON object: `{"start": 0, "start": 12}`.

Every fast JSON reader keeps one of the two values without a word (orjson and `json` the
last, others the first), so such a file says two things. Finding them costs a second parse
with an `object_pairs_hook`, five times slower than orjson; it runs only when a cheap check
says a task may have them.

The cheap check: every key of an object is followed by exactly one `:` outside strings, so
a task's raw bytes hold as many colons as its parsed form written back (colons inside strings
are written back as they were read), unless keys were dropped. The two counts differ when a
duplicate was dropped, and also when a string spelled a colon as `\\u003a` (then the second
parse finds nothing). They could cancel out only in a task that both escapes colons and
repeats a key with exactly as many colons in the dropped pairs. The counts are numpy's for
large tasks (vectorised; `bytes.count` of one byte is up to 5x slower on 50 KB, faster below
~4 KB): on the 10k-task benchmark export the check costs ~0.2 s of ~1.9 s. numpy is imported
only once a run has counted `NUMPY_AFTER` bytes (or when something else imported it): a
one-task check does not pay its import (~0.05 s of CPU) for microseconds of counting.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson

Path_ = list[str | int]


def may_have_duplicates(raw: bytes, task: Any) -> bool:
    """The cheap check: False means `raw` has no duplicate keys."""
    return _colons(raw) != _colons(orjson.dumps(task))


NUMPY_AFTER = 32 << 20  # bytes counted before numpy's import pays for itself
NUMPY_FROM = 4096  # the task size from which numpy counts faster than bytes.count
_counted = 0


def _colons(b: bytes) -> int:
    global _counted
    if len(b) >= NUMPY_FROM:
        np = sys.modules.get("numpy")
        if np is None and _counted >= NUMPY_AFTER:
            import numpy as np
        if np is not None:
            return int(np.count_nonzero(np.frombuffer(b, dtype=np.uint8) == 58))  # ord(":")
        _counted += len(b)
    return b.count(58)


def duplicate_keys(raw: bytes) -> list[tuple[Path_, str, list[Any]]]:
    """(path of the object, key, its values in file order) for every repeated key."""
    repeated: dict[int, list[tuple[str, list[Any]]]] = {}

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            values: dict[str, list[Any]] = {}
            for k, v in pairs:
                values.setdefault(k, []).append(v)
            repeated[id(obj)] = [(k, vs) for k, vs in values.items() if len(vs) > 1]
        return obj

    try:
        doc = json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return []  # orjson read it; a reader this strict or shallow can't tell more
    if not repeated:
        return []
    found: list[tuple[Path_, str, list[Any]]] = []
    stack: list[tuple[Any, Path_]] = [(doc, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, values in repeated.get(id(node), ()):
                found.append((path, key, values))
            stack.extend((v, [*path, k]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(node))
    found.sort(key=lambda f: ([str(p) for p in f[0]], f[1]))
    return found


def shown(value: Any) -> str:
    """A value as it reads in JSON, cut short."""
    s = json.dumps(value, ensure_ascii=False)
    return s if len(s) <= 40 else s[:37] + "..."
