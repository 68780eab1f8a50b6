"""Speed of distilled filters, and against the inversion route (dataset generation: `bench_dataset.py`).

1. Filter latency per image (batch 1) at 64, 256 and 512 pixels: PyTorch eager and onnxruntime,
   for the filter architecture that `faceedit distill train` builds by default (weights do not
   change the cost, so an untrained network of the same shape is timed when no filter is given).
2. The inversion route on the same machine, in the same run: align -> W+ projection (the given
   number of steps) -> edit -> synthesis -> paste back, for one photo at the generator's resolution;
   reported as the speed-up of the filter (align + filter + paste back) over it.

Timings interleave the alternatives round by round and report medians, so machine noise hits all
of them alike.

    python benchmarks/bench_filters.py --json benchmarks/results/bench_filters.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, run_record, write_json  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    return 1000 * median_seconds(fn, repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", default="64,256,512")
    parser.add_argument("--filter", default=None, help="filter folder or bundled name (default: untrained, default)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", default="synthfaces-64", help="generator for the inversion route and datasets")
    parser.add_argument("--projection-steps", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import onnxruntime as ort

    import faceedit
    from distill.filter import Filter
    from distill.networks import build_generator
    from distill.train import FilterTrainingConfig

    torch.set_grad_enabled(False)
    results = {"filters": [], **run_record()}
    arch = FilterTrainingConfig().architecture()
    tmp = Path(tempfile.mkdtemp())
    for res in (int(r) for r in args.resolutions.split(",")):
        flt = Filter.load(args.filter) if args.filter else Filter(build_generator(**arch).eval(), res, arch)
        if flt.resolution != res:
            continue
        x = torch.rand(1, 3, res, res) * 2 - 1
        session = ort.InferenceSession(str(flt.export_onnx(tmp / f"f{res}.onnx")),
                                       providers=["CPUExecutionProvider"])
        feed = {"images": x.numpy()}
        torch_ms, ort_ms = [], []
        def run_torch(net=flt.network, x=x):
            return net(x)

        def run_onnx(session=session, feed=feed):
            return session.run(None, feed)

        for _ in range(3):  # interleaved rounds
            torch_ms.append(median_ms(run_torch, max(args.repeats // 3, 3)))
            ort_ms.append(median_ms(run_onnx, max(args.repeats // 3, 3)))
        row = dict(resolution=res, torch_ms=round(statistics.median(torch_ms), 2),
                   onnxruntime_ms=round(statistics.median(ort_ms), 2),
                   parameters=sum(p.numel() for p in flt.network.parameters()))
        results["filters"].append(row)
        print(json.dumps(row))

    # The inversion route against the filter route, one photo, same machine and run.
    from skimage import data as skdata

    from directions.bundled import load_bundled_direction
    from directions.edit import apply_direction
    from faceedit.alignment import FaceAligner, paste_back
    from faceedit.inversion.projector import Projector
    from faceedit.utils.images import images_from_tensor, tensor_from_images

    G = faceedit.load_generator(args.model, device="cpu")
    age = load_bundled_direction(Path(args.model).name, "age", generator=G)
    photo = skdata.astronaut()
    aligner = FaceAligner(output_size=G.img_resolution)
    flt = Filter.load(args.filter) if args.filter else Filter(build_generator(**arch).eval(), G.img_resolution, arch)

    def inversion_route():
        face = aligner.align(photo)
        with torch.enable_grad():
            result = Projector(space="w+", steps=args.projection_steps, early_stop_patience=None,
                               w_avg_samples=2000).project(G, tensor_from_images(face.image), progress=False)
        ws = apply_direction(result.ws, age.vector, 2.0, age.layers, age.unit)
        edited = images_from_tensor(G.synthesis(ws, noise_mode="const", noise=result.noise))[0]
        return paste_back(photo, face, edited)

    def filter_route():
        face = aligner.align(photo)
        return paste_back(photo, face, flt.apply_crop(face.image), reference=face.image)  # as Filter.apply_photo

    filter_ms = median_ms(filter_route, 5)
    inversion_ms = median_ms(inversion_route, 1)
    results["routes"] = dict(resolution=G.img_resolution, projection_steps=args.projection_steps,
                             filter_route_ms=round(filter_ms, 1), inversion_route_ms=round(inversion_ms, 1),
                             speedup=round(inversion_ms / filter_ms, 1))
    print(json.dumps(results["routes"]))

    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
