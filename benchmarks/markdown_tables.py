"""Markdown tables for MODELS.md / BENCHMARKS.md from the JSON results the benchmark scripts write.

    python benchmarks/markdown_tables.py quality benchmarks/results/quality_synthfaces-64.json
    python benchmarks/markdown_tables.py directions benchmarks/results/directions_synthfaces-64.json
    python benchmarks/markdown_tables.py inversion benchmarks/results/inversion_synthfaces-64.json
    python benchmarks/markdown_tables.py distill benchmarks/results/distill_synthfaces-64.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OTHERS = ("age", "gender", "smile", "glasses", "beard", "skin_tone", "yaw")


def quality(r: dict) -> str:
    lines = [f"Judge-feature Fréchet distance: model {r['fd_model']:.3f}, floor {r['fd_floor']:.3f}.", "",
             "| factor | TV distance, model vs renders | TV distance, floor | judge mean, model "
             "| judge mean, renders |",
             "|---|---:|---:|---:|---:|"]
    for f in r["factors"]:
        lines.append(f"| {f['factor']} | {f['tv_model']:.3f} | {f['tv_floor']:.3f} | {f['mean_model']:.3f} | "
                     f"{f['mean_renders']:.3f} |")
    return "\n".join(lines)


def directions(r: dict) -> str:
    lines = [f"{r['n']:,} samples labelled in {r['sample_seconds']:.0f} s, {len(r['held_out'])} directions fitted in "
             f"{r['fit_seconds']:.1f} s; judged on {r['eval_n']} faces over alpha {r['alphas'][0]:+g} .. "
             f"{r['alphas'][-1]:+g} ({r['eval_seconds'] / 60:.1f} min).", "",
             "| direction | held-out | monotonic | target / unit | " + " | ".join(f"\\|Δ{a}\\|" for a in OTHERS)
             + " | outside face |", "|---|---:|---:|---:|" + "---:|" * len(OTHERS) + "---:|"]
    for label, e in r["evaluation"].items():
        target = e["attribute"]
        mono = f"{e['monotonic_fraction']:.3f}" if "monotonic_fraction" in e else "-"
        cells = " | ".join(f"{e['mean_abs_change'][a]:.3f}" for a in OTHERS)
        held_out = r["held_out"][label.split(" (")[0]]  # '<name> (all rows)' was fitted as <name>
        lines.append(f"| {label} | {held_out:.3f} | {mono} | {e['effect_per_unit'][target]:+.3f} | "
                     f"{cells} | {e['outside_face_change']:.3f} |")
    lines += ["", "| age estimator | held-out | cosine to svm | seconds |", "|---|---:|---:|---:|"]
    for method, m in r["age_methods"].items():
        lines.append(f"| {method} | {m['score']:.3f} | {m['cosine_to_svm']:.3f} | {m['seconds']} |")
    return "\n".join(lines)


def inversion(r: dict) -> str:
    with_lpips = any("lpips" in x for x in r["rows"])
    lines = [f"Projection {r['steps']} steps, PTI {r['pti_steps']} tuning steps; LPIPS "
             f"{'on' if r['lpips'] else 'off (weights not cached)'}. Age edit of the GAN samples' true latents "
             f"(-2 -> +2 std, judged): {r['reference_age_edit']:+.3f}.", "",
             "| targets | method | PSNR dB | SSIM | " + ("LPIPS | " if with_lpips else "")
             + "w error (std) | identity distance (same person, faces dlib found) | age edit (judged) "
             "| time / image | steps |",
             "|---|---|---:|---:|" + ("---:|" if with_lpips else "") + "---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        we = f"{x['w_error']:.2f}" if "w_error" in x else "-"
        ident = "-" if "identity_distance" not in x else (
            "no face" if x["identity_distance"] is None else f"{x['identity_distance']:.3f}")
        if "identity_same_person" in x:
            ident += f" ({x['identity_same_person']}/{x['n']} same"
            ident += ")" if x["identity_faces_found"] == x["n"] else f", {x['identity_faces_found']} found)"
        lp = (f"{x['lpips']:.3f} | " if "lpips" in x else "- | ") if with_lpips else ""
        seconds = x["seconds_per_image"]
        took = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
        steps = f"{x['steps']:.0f}" + (f" + {x['tuning_steps']}" if "tuning_steps" in x else "")
        lines.append(f"| {x['targets']} | {x['method']} | {x['psnr']:.2f} | {x['ssim']:.3f} | {lp}{we} | {ident} | "
                     f"{x['age_edit']:+.3f} | {took} | {steps} |")
    sizes = [x for x in r["rows"] if "delta_bytes" in x]
    if sizes:
        x = sizes[0]
        lines += ["", f"PTI delta per photo: {x['delta_bytes'] / 1024:.1f} KiB on disk ({x['delta_values']:,} values, "
                      f"safetensors + JSON) against {x['generator_bytes'] / 2 ** 20:.1f} MiB for the whole generator "
                      f"in float32: {x['generator_bytes'] / x['delta_bytes']:.0f}x smaller."]
        if "ffhq_1024_delta_bytes" in x:
            lines[-1] += (f" For NVIDIA's FFHQ-1024 architecture a delta of the same rank takes "
                          f"{x['ffhq_1024_delta_bytes'] / 2 ** 20:.2f} MiB against "
                          f"{x['ffhq_1024_generator_bytes'] / 2 ** 20:.0f} MiB "
                          f"({x['ffhq_1024_generator_bytes'] / x['ffhq_1024_delta_bytes']:.0f}x smaller).")
    return "\n".join(lines)


def distill(r: dict) -> str:
    lines = ["| filter | attribute | PSNR dB vs teacher | unfiltered input, dB | SSIM | teacher change (GAN samples) "
             "| filter change (same GAN samples) | filter change (fresh renders) | renders / teacher |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        lines.append(f"| {x['filter']} | {x['attribute']} | {x['psnr']:.2f} | {x['psnr_unfiltered']:.2f} | "
                     f"{x['ssim']:.3f} | "
                     f"{x['teacher_change']:+.3f} | {x.get('filter_change_on_gan_samples', float('nan')):+.3f} | "
                     f"{x['filter_change_on_renders']:+.3f} | {100 * x['ratio']:.0f} % |")
    return "\n".join(lines)


if __name__ == "__main__":
    kind, path = sys.argv[1], Path(sys.argv[2])
    tables = {"quality": quality, "directions": directions, "inversion": inversion, "distill": distill}
    print(tables[kind](json.loads(path.read_text())))
