"""What every benchmark result records about how it was made."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from typing import Dict

import torch


def run_record() -> Dict[str, str]:
    """Date, machine, torch version and the exact command line, for a result file."""
    return dict(date=datetime.date.today().isoformat(),
                machine=f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
                        f"{platform.processor() or platform.system()}",
                torch=torch.__version__, command=" ".join(["python"] + sys.argv))
