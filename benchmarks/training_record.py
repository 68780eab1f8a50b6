"""Training record of a `faceedit train` run from its stats.jsonl: images, steps, active hours, throughput.

Runs started before the trainer learnt to leave suspended time out (SIGSTOP ... SIGCONT) recorded
pauses as training time; such gaps show up as log intervals far longer than the median, and are
replaced by the median here ("active"), next to the raw figure ("recorded").

    python benchmarks/training_record.py runs/synthfaces-64
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def record(run_dir: Path) -> dict:
    rows = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines() if line.strip()]
    deltas = [b["train_seconds"] - a["train_seconds"] for a, b in zip(rows, rows[1:])]
    median = statistics.median(deltas) if deltas else 0.0
    active = rows[0]["train_seconds"] + sum(d if d < 5 * median else median for d in deltas)
    speeds = [r["images_per_second"] for r in rows if r["images_per_second"] > 0]
    return dict(kimg=rows[-1]["kimg"], step=rows[-1]["step"], recorded_hours=round(rows[-1]["train_seconds"] / 3600, 2),
                active_hours=round(active / 3600, 2), median_images_per_second=round(statistics.median(speeds), 1))


if __name__ == "__main__":
    print(json.dumps(record(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/synthfaces-64"))))
