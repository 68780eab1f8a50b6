"""``faceedit train`` (train or resume a StyleGAN2 run) and ``faceedit export-generator``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
from pathlib import Path
from typing import Any, Dict, List, Optional

__all__ = ["add_parser", "run", "run_export", "parse_overrides"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser(
        "train", help="train or resume a StyleGAN2 generator",
        description="Train a StyleGAN2 generator on the procedural synthfaces stream. Running the same command on "
                    "a folder that holds a checkpoint resumes it exactly where it stopped.")
    p.add_argument("--outdir", type=Path, required=True, help="run folder (checkpoints, samples, loss.png)")
    p.add_argument("--preset", default="synthfaces-64", help="starting configuration for a new run "
                   "(synthfaces-64 or tiny; ignored when resuming)")
    p.add_argument("--kimg", type=float, default=None, help="train until this many thousand images in total")
    p.add_argument("--set", dest="overrides", action="append", default=None, metavar="KEY=VALUE",
                   help="change one TrainingConfig option, e.g. --set batch_size=32 (repeatable)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop with a checkpoint after this many minutes (resume later with the same command)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA if available, else CPU), 'cpu', 'cuda', ...")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)

    e = sub.add_parser("export-generator", help="export a run's EMA generator as a model folder",
                       description="Write the EMA generator of a run's newest checkpoint as a model folder "
                                   "(config.json + model.safetensors) that load_generator reads.")
    e.add_argument("run_dir", type=Path, help="run folder written by `faceedit train`")
    e.add_argument("out", type=Path, help="output model folder")
    e.add_argument("--dtype", choices=["float32", "float16"], default="float32", help="weight precision on disk")
    e.add_argument("--name", default=None, help="model name recorded in the metadata")
    e.set_defaults(run=run_export)


def parse_overrides(items: List[str], config_class: Optional[type] = None) -> Dict[str, Any]:
    """``['batch_size=32', 'g_lr=0.002']`` -> typed values for the fields of a config dataclass.

    ``config_class``: the dataclass whose fields may be set (default :class:`TrainingConfig`); every field
    needs a default, whose type is the type a value is parsed as.
    """
    from faceedit.training.config import TrainingConfig

    config_class = config_class or TrainingConfig
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    defaults = config_class()
    values: Dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(fields))}")
        kind = type(getattr(defaults, key))
        try:
            if kind is bool:
                if text.lower() not in ("1", "true", "yes", "0", "false", "no"):
                    raise ValueError(text)
                values[key] = text.lower() in ("1", "true", "yes")
            else:
                values[key] = kind(text)
        except ValueError:
            raise ValueError(f"--set {item!r}: {key} takes a {kind.__name__}") from None
    return values


def run(args: argparse.Namespace) -> int:
    import torch

    from faceedit.training import Trainer, TrainingConfig, latest_checkpoint, preset
    from faceedit.training.trainer import RUN_CONFIG_NAME

    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))
    overrides = parse_overrides(args.overrides or [])
    if args.kimg is not None:
        overrides["total_kimg"] = args.kimg
    run_file = args.outdir / RUN_CONFIG_NAME
    resuming = run_file.is_file()
    if resuming:
        base = TrainingConfig.from_dict(json.loads(run_file.read_text())["config"])
    else:
        base = preset(args.preset)
    config = base.replace(**overrides)

    # A plain `kill` should save a checkpoint like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    trainer = Trainer(args.outdir, config, device=args.device, progress=not args.no_progress)
    what = f"resuming at {trainer.kimg:.1f} kimg" if trainer.state.step else "new run"
    print(f"faceedit train: {what}, {args.outdir} on {trainer.device}, target {config.total_kimg:g} kimg")
    state = trainer.train(max_minutes=args.max_minutes)
    checkpoint = latest_checkpoint(args.outdir)
    hours = state.train_seconds / 3600
    status = "done" if trainer.done else "stopped (run the same command to resume)"
    print(f"faceedit train: {status} at step {state.step}, {state.nimg / 1000:.1f} kimg, {hours:.2f} h of training; "
          f"checkpoint {checkpoint}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import torch

    from faceedit.networks.generator import Generator
    from faceedit.training import latest_checkpoint

    checkpoint = latest_checkpoint(args.run_dir)
    if checkpoint is None:
        raise ValueError(f"{args.run_dir} holds no training checkpoint; train first with `faceedit train --outdir "
                         f"{args.run_dir}`")
    G = Generator.from_pretrained(checkpoint / "generator")
    state = json.loads((checkpoint / "state.json").read_text())
    metadata = {"name": args.name or args.run_dir.name, "training_step": state["step"],
                "training_kimg": state["nimg"] / 1000, "training_hours": round(state["train_seconds"] / 3600, 3),
                "training_config": state["config"]}
    dtype = torch.float16 if args.dtype == "float16" else None
    G.save_pretrained(args.out, dtype=dtype, metadata=metadata)
    print(f"faceedit export-generator: {checkpoint.name} -> {args.out} ({args.dtype})")
    return 0
