"""The demo: sample faces, judge the directions, invert and edit example photos, make a small paired dataset,
and apply the model's bundled distilled filter (``older`` for ``synthfaces-64``) to photos; one HTML report
(``index.html``) with every picture.

With ``train_filter`` (``faceedit demo --train-filter``), or for a model without a bundled filter for the
dataset's attribute, the demo distils a small filter from its own pairs instead, to show the recipe.

Every figure in the report comes from the judge (``synthfaces-judge``), never from the models being shown.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from faceedit.demo.html import HtmlReport

__all__ = ["DemoConfig", "run_demo"]


@dataclass
class DemoConfig:
    """How much work each step of the demo does (the defaults take about 35 s on 2 CPU cores, BENCHMARKS.md)."""

    model: str = "synthfaces-64"  # generator with bundled directions
    judge: str = "synthfaces-judge"  # independent classifier for every figure
    seed: int = 0  # first seed of the sampled faces
    samples: int = 24  # faces in the sample grid
    truncation_psi: float = 0.7  # truncation of sampled faces
    eval_faces: int = 64  # faces per direction in the evaluation
    photos: Tuple[str, ...] = ("older man with beard", "young woman")  # example photos to invert and edit
    inversion_steps: int = 200  # projection steps per photo
    edit_strength: float = 2.0  # strength of the shown edits, in standard deviations
    dataset_seeds: int = 96  # seeds of the paired dataset
    dataset_direction: str = "age"  # attribute (its preferred direction) of the paired dataset
    train_filter: bool = False  # distil a small filter from the demo's pairs even when one is bundled
    filter_minutes: float = 1.5  # training time of that filter (train_filter, or no bundled filter)
    filter_steps: int = 400  # at most this many filter training steps


def run_demo(out: Union[str, Path], config: Optional[DemoConfig] = None, progress: bool = True) -> Path:
    """Run every step of the demo.

    Args:
        out: folder for the report, its pictures, the paired dataset and ``demo.json`` (timings and figures).
        config: how much work each step does (default: :class:`DemoConfig`'s).
        progress: show progress bars.

    Returns:
        The path of ``index.html``.
    """
    from tqdm.auto import tqdm

    from faceedit.editor import FaceEditor

    config = config or DemoConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    editor = FaceEditor.from_pretrained(config.model, device="auto", use_lpips=False)
    report = HtmlReport("faceedit demo", f"model {config.model} on {editor.generator.device}, "
                                         f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, "
                                         f"{platform.python_version()}")
    report.text("Everything below was made just now by <code>faceedit demo</code> on the bundled model; figures are "
                f"measured by the independent judge <code>{config.judge}</code>. Each section names the command "
                "that does the same step at full size.")
    steps = [("sampled faces", _samples), ("directions", _directions), ("inversion and editing", _inversion),
             ("paired dataset", _dataset), ("distilled filter", _filter)]
    timings: Dict[str, float] = {}
    context: Dict = {}
    bar = tqdm(steps, desc="demo", unit="step", disable=not progress)
    for name, step in bar:
        bar.set_postfix_str(name)
        start = time.monotonic()
        step(editor, config, out, report, context, progress)
        timings[name] = round(time.monotonic() - start, 1)
    report.section("Timings", f"Total {sum(timings.values()):.0f} s.")
    report.table(["step", "seconds"], list(timings.items()))
    from faceedit.utils.files import atomic_write_text

    atomic_write_text(out / "demo.json", json.dumps({"config": asdict(config), "timings": timings,
                                                     **context.get("figures", {})}, indent=2) + "\n")
    return report.write(out)


# ---------------------------------------------------------------------------------------------- steps


def _samples(editor, config, out, report, context, progress) -> None:
    from faceedit.utils.images import make_grid, save_png

    faces = [editor.sample(seed=config.seed + i, truncation_psi=config.truncation_psi).aligned
             for i in range(config.samples)]
    save_png(make_grid(faces, cols=8), out / "samples.png")
    report.section("Sampled faces", f"{config.samples} faces from <code>{config.model}</code> (seeds {config.seed}-"
                   f"{config.seed + config.samples - 1}, truncation {config.truncation_psi}). Same as "
                   f"<code>faceedit generate --model {config.model} --seeds {config.seed}-"
                   f"{config.seed + config.samples - 1} --outdir out/</code>.")
    report.image("samples.png", "sampled faces", width=2 * 8 * (editor.resolution + 2))


def _directions(editor, config, out, report, context, progress) -> None:
    from directions.classifiers.registry import make_classifier
    from directions.report import write_direction_report

    judge = make_classifier(config.judge)
    directions = {editor.attribute_directions[a]: editor.direction_for(a) for a in editor.attributes}
    summary = write_direction_report(out / "directions", editor.generator, directions, judge, n=config.eval_faces,
                                     strip_seeds=(0, 1), progress=progress)["directions"]
    report.section("Directions", f"The directions bundled with {config.model} (linear boundaries in W fitted on "
                   f"20,000 labelled samples), each swept from -3 to +3 standard deviations on {config.eval_faces} "
                   f"faces and judged. <i>Monotonic</i>: share of faces whose judged attribute rises with every step; "
                   f"<i>change</i>: mean per-face change of the target over the sweep; <i>side effects</i>: largest "
                   f"mean change of another attribute. Full size: <code>faceedit directions eval</code>.")
    rows = []
    for label, entry in summary.items():
        target = entry["attribute"]
        others = {a: v for a, v in entry["mean_abs_change"].items() if a != target}
        worst = max(others, key=others.get) if others else "-"
        rows.append([label, target, entry.get("monotonic_fraction", float("nan")),
                     entry["mean_abs_change"].get(target, float("nan")), f"{worst} {others.get(worst, 0):.3f}"])
    report.table(["direction", "attribute", "monotonic", "change", "side effects"], rows)
    report.image("directions/strips.png", "each row: one face edited from -3 to +3 along a direction")
    for label in directions:
        report.image(f"directions/curves-{label}.png", f"{label}: judged change of every attribute", width=420)
    report.image("directions/entanglement.png", "judged change per unit of edit (rows: directions)", width=520)
    context.setdefault("figures", {})["directions"] = {label: {k: v for k, v in entry.items()
                                                              if k in ("monotonic_fraction", "mean_abs_change")}
                                                      for label, entry in summary.items()}


def _inversion(editor, config, out, report, context, progress) -> None:
    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import label_rows, make_grid, save_png
    from faceedit.utils.metrics import psnr_uint8

    strength = config.edit_strength
    edits = [("age", -strength), ("age", strength), ("gender", -strength), ("gender", strength)]
    edits = [(a, s) for a, s in edits if a in editor.attributes]
    rows, labels, figures, pasted = [], [], {}, []
    for label in config.photos:
        photo = example_photo(label)
        face = editor.encode(photo, steps=config.inversion_steps)
        crops = [face.aligned, face.reconstruction] + [editor.edit(face, {a: s}).aligned for a, s in edits]
        rows.append(make_grid(crops, cols=len(crops)))
        labels.append(label)
        figures[label] = {"psnr_db": round(psnr_uint8(face.aligned, face.reconstruction), 2),
                          "seconds": round(face.inversion.seconds, 1), "method": face.inversion.method}
        if edits:
            pasted.append(make_grid([photo, editor.edit(face, {edits[1][0]: edits[1][1]}).photo], cols=2))
    columns = ["aligned", "inverted"] + [f"{a} {s:+g}" for a, s in edits]
    save_png(label_rows(rows, labels, label_width=150, column_labels=columns), out / "inversion.png")
    columns = ", ".join(columns)
    report.section("Inversion and editing", "Example photos of the synthfaces world, aligned with dlib's landmarks "
                   "(framed as the model's training faces), projected into W+ and edited along the directions; the "
                   "edited face is pasted back into the photo. Same as <code>faceedit edit photo.jpg --age +2 --out "
                   "older.png</code>.")
    report.image("inversion.png", f"columns: {columns}", width=2 * rows[0].shape[1])
    report.table(["photo", "method", "PSNR (dB)", "seconds"],
                 [[k, v["method"], v["psnr_db"], v["seconds"]] for k, v in figures.items()])
    for i, grid in enumerate(pasted):
        save_png(grid, out / f"photo-{i}.png")
        report.image(f"photo-{i}.png", f"{config.photos[i]}: photo and {edits[1][0]} {edits[1][1]:+g}, pasted back")
    context.setdefault("figures", {})["inversion"] = figures


def _dataset(editor, config, out, report, context, progress) -> None:
    from distill.dataset import PairSpec, make_dataset, read_pairs
    from faceedit.utils.images import make_grid, save_png

    direction_name = editor.attribute_directions[config.dataset_direction]
    spec = PairSpec(direction=direction_name, alpha_min=1.5, alpha_max=3.0, num_seeds=config.dataset_seeds,
                    shard_seeds=min(48, config.dataset_seeds), batch_size=32, truncation_psi=0.8)
    result = make_dataset(out / "dataset", editor.generator, editor.directions[direction_name], spec,
                          progress=progress, generator_name=editor.model_name)
    pairs = [(a, b) for a, b, _ in read_pairs(out / "dataset")][:8]
    save_png(make_grid([a for a, _ in pairs] + [b for _, b in pairs], cols=len(pairs)), out / "pairs.png")
    report.section("Paired dataset", f"{result['pairs']} pairs: each seed's face before and after "
                   f"<code>{direction_name}</code> at strength 1.5-3 (same person, pose, light and background). "
                   f"Same as <code>faceedit dataset make --model {config.model} --direction {direction_name} "
                   f"--seeds 0-{config.dataset_seeds - 1} --out pairs/</code>.")
    report.image("pairs.png", "top: before; bottom: after", width=2 * len(pairs) * (editor.resolution + 2))
    context["dataset"] = out / "dataset"
    context["dataset_direction"] = direction_name


def _filter(editor, config, out, report, context, progress) -> None:
    from distill.train import FilterTrainer, FilterTrainingConfig
    from faceedit.synthfaces.examples import example_photo
    from faceedit.utils.images import make_grid, save_png

    attribute = config.dataset_direction
    bundled = [name for name, (attr, strength) in editor.filter_edits.items() if attr == attribute and strength > 0]
    if bundled and not config.train_filter:
        name = bundled[0]
        flt = editor.filters[name]
        what = (f"the bundled filter <code>{name}</code> ({flt.metadata.get('training_steps', '?')} training "
                f"steps)")
    else:
        held_out = min(16, config.dataset_seeds // 4)
        cfg = FilterTrainingConfig(steps=config.filter_steps, batch_size=8, held_out=held_out,
                                   checkpoint_every=10**9, sample_every=10**9)
        trainer = FilterTrainer(out / "filter-run", context["dataset"], cfg, device=editor.generator.device,
                                progress=progress, perceptual=None)
        flt = trainer.train(max_minutes=config.filter_minutes)
        name = "demo-older"
        editor.filters[name] = flt
        what = (f"a filter distilled just now from the demo's {context['dataset'].name} pairs: "
                f"{flt.metadata['training_steps']} steps in {flt.metadata['training_seconds']:.0f} s (the bundled "
                f"filters train for hours; this one only shows the recipe)")
    tiles = []
    for label in config.photos:
        photo = example_photo(label)
        tiles += [photo, editor.apply_filter(photo, name).photo]
    save_png(make_grid(tiles, cols=4), out / "filter.png")
    report.section("Distilled filter", f"One forward pass instead of an inversion: {what}. Same as "
                   f"<code>faceedit distill train --data pairs/ --run-dir run/ --out older/</code> and <code>faceedit "
                   f"filters apply photo.jpg --filter older/ --out older.png</code>.")
    report.image("filter.png", "pairs of photo and filtered photo")
    context.setdefault("figures", {})["filter"] = {"name": name, "trained_here": name not in bundled,
                                                  "training_steps": flt.metadata.get("training_steps")}
