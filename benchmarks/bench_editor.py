"""What a person waits for in the app and the API: ``FaceEditor`` operations on the bundled model.

Times, after a warm-up, the median of ``--repeats`` runs of: loading the editor; finding and aligning a
face in a 256 px and a 1024 px photo; inverting it (W+ projection, 100 and 300 steps); one slider move
(``edit``: synthesis + paste into the photo) at both photo sizes; the instant path (``apply_filter`` with
the default filter architecture: latency only, the weights are untrained); and optionally the whole demo.

    python benchmarks/bench_editor.py --json benchmarks/results/bench_editor.json
    python benchmarks/bench_editor.py --demo            # also time `faceedit demo` (about 2 minutes)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, run_record, write_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="synthfaces-64")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--demo", action="store_true", help="also run and time the demo")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from PIL import Image

    from distill.filter import Filter
    from distill.networks import build_generator
    from distill.train import FilterTrainingConfig
    from faceedit import FaceEditor
    from faceedit.synthfaces.examples import example_photo

    start = time.perf_counter()
    editor = FaceEditor.from_pretrained(args.model, device="cpu", use_lpips=False)
    load_seconds = time.perf_counter() - start
    photo = example_photo("older man with beard")
    big = np.asarray(Image.fromarray(photo).resize((1024, 1024), Image.LANCZOS))
    if "older" in editor.filters:  # a bundled filter: what the app's instant mode runs
        instant, instant_label = "older", "bundled `older`"
    else:  # latency does not depend on the weights: an untrained filter of the default architecture
        arch = FilterTrainingConfig().architecture()
        editor.filters["untrained"] = Filter(build_generator(**arch), editor.resolution, arch,
                                             {"dataset": {"direction": "age", "alpha_min": 1.5, "alpha_max": 3.0}})
        instant, instant_label = "untrained", "untrained default arch"
    rows = {f"load editor ({len(editor.directions)} directions, encoder: {editor.encoder is not None}, "
            f"{len(editor.filters)} filters)": load_seconds}
    for name, image in (("256 px", photo), ("1024 px", big)):
        rows[f"find + align face, {name} photo"] = median_seconds(lambda image=image: editor.locate(image),
                                                                  args.repeats)
    located = editor.locate(photo)
    methods = [("w+", 100), ("w+", 300)]
    if editor.encoder is not None:
        methods += [("encoder", 0), ("encoder+w+", 100), ("encoder+w+", 300)]
    for method, steps in methods:
        label = f"invert, {method}" + (f" {steps} steps" if steps else " (one forward pass)")
        rows[label] = median_seconds(lambda method=method, steps=steps: editor.encode(located, method=method,
                                                                                       steps=steps),
                                     max(1, args.repeats // 2) if steps else args.repeats)
    for name, image in (("256 px", photo), ("1024 px", big)):
        face = editor.encode(editor.locate(image), method="w+", steps=20)
        rows[f"slider move (edit + paste), {name} photo"] = median_seconds(
            lambda face=face: editor.edit(face, age=2.0), args.repeats)
        rows[f"instant filter ({instant_label}), {name} photo"] = median_seconds(
            lambda face=face: editor.apply_filter(face, instant), args.repeats)
    if args.demo:
        from faceedit.demo.run import run_demo

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_demo(Path(tmp) / "demo", progress=False)
            rows["faceedit demo (whole pipeline)"] = time.perf_counter() - start
    result = dict(run_record(), model=args.model, repeats=args.repeats,
                  seconds={k: round(v, 4) for k, v in rows.items()})
    print("| operation | median |\n|---|---|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds * 1000:.0f} ms |" if seconds < 2 else f"| {name} | {seconds:.1f} s |")
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
