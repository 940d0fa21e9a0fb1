"""Shared helpers for the benchmark scripts: timing summaries and an environment header.

Benchmarks print numbers; they assert nothing. Machines are shared and noisy, so every figure
is a median of repeats, shown with its min and max, and sizes are compared as ratios within
one run rather than against numbers from another day.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def summarize(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def environment_lines() -> list[str]:
    """What the numbers depend on: date, machine, interpreter, library versions, load."""
    import numpy
    import pandas

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return [
        f"date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}",
        f"python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}",
        f"OpenBLAS overrides: {blas or 'none'}",
    ]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def thread_caps(text: str) -> list[int | None]:
    """``--threads`` as given: 'default' (no cap) or numbers, comma-separated."""
    try:
        return [None if t == "default" else int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("takes 'default' or numbers, comma-separated") from None
