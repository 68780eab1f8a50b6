"""What every benchmark result records about how it was made."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional

import torch


def run_record() -> Dict[str, str]:
    """Date, machine, torch version and the exact command line, for a result file."""
    return dict(date=datetime.date.today().isoformat(),
                machine=f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
                        f"{platform.processor() or platform.system()}",
                torch=torch.__version__, command=" ".join(["python"] + sys.argv))


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call (noise on a shared machine only slows)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_json(path: Optional[Path], result: Dict) -> None:
    """Write a result file (creating its folder); nothing when ``path`` is None."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
