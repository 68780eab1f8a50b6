"""``faceedit distill train`` and ``faceedit filters apply|calibrate|export|list``: distilled one-pass filters."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("distill", help="train a Pix2PixHD filter on a paired dataset")
    dsub = p.add_subparsers(dest="distill_command", metavar="ACTION")
    dsub.required = True
    tr = dsub.add_parser("train", help="train (or resume) a filter",
                         description="Train a Pix2PixHD filter on a dataset from `faceedit dataset make`. The same "
                                     "command resumes from the run's last checkpoint; under torchrun the processes "
                                     "share each batch (DDP; gloo on CPUs, NCCL on GPUs).")
    tr.add_argument("--data", type=Path, action="append", required=True,
                    help="paired dataset folder; repeat it to pool several datasets of one teacher (e.g. its own "
                         "pairs and anchored ones): each keeps its own last --held-out pairs out")
    tr.add_argument("--run-dir", type=Path, required=True, help="checkpoints, samples, logs (resumed when it exists)")
    tr.add_argument("--out", type=Path, default=None, help="write the finished filter folder here")
    tr.add_argument("--steps", type=int, default=None, help="total steps (default: the run's, or 4000)")
    tr.add_argument("--lr-decay-steps", type=int, default=None,
                    help="decay the learning rate linearly to 0 over the last N steps (default 0: constant); a "
                         "finished run takes more steps with a decay: --steps 10000 --lr-decay-steps 2000")
    tr.add_argument("--init-from", default=None, metavar="FILTER",
                    help="start a new run from this filter's weights (folder or bundled name; same architecture), "
                         "e.g. to fine-tune with other losses: --set lambda_gan=0 --set lambda_fm=0")
    tr.add_argument("--batch-size", type=int, default=None)
    tr.add_argument("--ngf", type=int, default=None, help="generator width (default 16)")
    tr.add_argument("--n-downsampling", type=int, default=None,
                    help="downsamplings of the global generator (default 4; 3 suits 64x64 faces)")
    tr.add_argument("--n-blocks", type=int, default=None, help="residual blocks (default 6)")
    tr.add_argument("--skips", action="store_true", default=None,
                    help="encoder-to-decoder skips at every scale (with --init-from a filter without them, they "
                         "start at zero)")
    tr.add_argument("--generator", choices=["global", "local"], default=None)
    tr.add_argument("--seed", type=int, default=None)
    tr.add_argument("--precision", choices=["auto", "fp32", "bf16"], default=None,
                    help="bfloat16 autocast: 'auto' (default) on CUDA only; 'bf16' on CPUs too, about 1.4x faster "
                         "where the CPU has bfloat16 instructions (AVX512-BF16, AMX), usually slower where it has not")
    tr.add_argument("--held-out", type=int, default=None, help="last pairs kept out of training (default 64)")
    tr.add_argument("--perceptual", default=None,
                    help="perceptual loss: 'lpips' (default; VGG16 LPIPS when fetched, else none), 'none', or an "
                         "attribute classifier whose feature maps to compare (e.g. synthfaces-labeler)")
    tr.add_argument("--set", dest="overrides", action="append", default=None, metavar="KEY=VALUE",
                    help="change one FilterTrainingConfig option, e.g. --set lambda_l1=20 (repeatable)")
    tr.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                    help="weights of the --out filter (float16 halves the size)")
    tr.add_argument("--max-minutes", type=float, default=None, help="stop after this long (resume later)")
    tr.add_argument("--device", default="auto")
    tr.add_argument("--no-progress", action="store_true")
    tr.set_defaults(run=run_train)

    f = sub.add_parser("filters", help="apply, calibrate, export or list distilled filters")
    fsub = f.add_subparsers(dest="filters_command", metavar="ACTION")
    fsub.required = True
    ap = fsub.add_parser("apply", help="edit a photo (or an aligned crop) with a filter in one pass")
    ap.add_argument("photo", type=Path)
    ap.add_argument("--filter", required=True, help="bundled filter name (older, younger, ...) or folder")
    ap.add_argument("--model", default="synthfaces-64", help="model whose bundled filters to look in")
    ap.add_argument("--every-face", action="store_true", help="filter every face, not only the largest")
    ap.add_argument("--strength", type=float, default=None,
                    help="how much of the filter's change to apply: 1 = as distilled, 0.5 = half, up to 3 (above 1 "
                         "extrapolates); default: the filter's own (1 unless calibrated, see `filters list`)")
    ap.add_argument("--out", type=Path, required=True)
    ap.set_defaults(run=run_apply)
    ca = fsub.add_parser("calibrate", help="set a filter's default strength so that it changes pictures it was not "
                                           "distilled on as much as its teacher changes its own faces",
                         description="Measure the teacher's change of the filter's attribute on unselected pairs of "
                                     "the request the filter was distilled from, and the filter's change on your "
                                     "pictures (aligned crops or photos, or synthfaces renders), with one classifier "
                                     "(default: the one that selected the dataset's pairs; keep your judge out of "
                                     "it), and save the strength at which the filter's change is --target times the "
                                     "teacher's as the filter's default. Calibrate on pictures your measurements do "
                                     "not use.")
    ca.add_argument("filter", help="bundled filter name or folder")
    ca.add_argument("--model", default="synthfaces-64", help="model whose bundled filters to look in")
    ca.add_argument("--pictures", type=Path, default=None,
                    help="folder of aligned crops at the filter's resolution, or photos (their largest face is "
                         "aligned); default: --renders synthfaces renders")
    ca.add_argument("--renders", type=int, default=256, help="synthfaces renders to calibrate on without --pictures")
    ca.add_argument("--render-seed", type=int, default=None, help="their seed (default: 600000, which no benchmark "
                                                                  "uses)")
    ca.add_argument("--classifier", default=None,
                    help="attribute classifier (default: the filter's dataset's, e.g. synthfaces-labeler)")
    ca.add_argument("--teacher", default=None, help="the teacher generator, name or file (default: the filter's)")
    ca.add_argument("--teacher-pairs", type=int, default=512, help="unselected teacher pairs to measure it on")
    ca.add_argument("--target", type=float, default=1.0, help="fraction of the teacher's change (default 1: all)")
    ca.add_argument("--out", type=Path, default=None,
                    help="write the calibrated filter folder here (default: the filter's own folder; a bundled "
                         "filter needs --out)")
    ca.add_argument("--dry-run", action="store_true", help="measure and print, write nothing")
    ca.set_defaults(run=run_calibrate)
    ex = fsub.add_parser("export", help="export a filter to ONNX (runs with onnxruntime)")
    ex.add_argument("filter", help="bundled filter name or folder")
    ex.add_argument("--model", default="synthfaces-64")
    ex.add_argument("--strength", type=float, default=None,
                    help="strength built into the ONNX model (default: the filter's own)")
    ex.add_argument("--out", type=Path, required=True, help="file.onnx")
    ex.set_defaults(run=run_export)
    ls = fsub.add_parser("list", help="filters bundled with a model")
    ls.add_argument("--model", default="synthfaces-64")
    ls.set_defaults(run=run_list)


def run_train(args: argparse.Namespace) -> int:
    import json
    import os
    import signal

    from distill.train import RUN_CONFIG, FilterTrainer, FilterTrainingConfig
    from faceedit.cli.train import parse_overrides

    saved = args.run_dir / RUN_CONFIG
    base = (FilterTrainingConfig.from_saved(json.loads(saved.read_text())["config"]) if saved.is_file()
            else FilterTrainingConfig())
    changes = parse_overrides(args.overrides or [], FilterTrainingConfig)
    changes.update({k: v for k, v in dict(steps=args.steps, lr_decay_steps=args.lr_decay_steps,
                                          batch_size=args.batch_size, ngf=args.ngf,
                                          n_downsampling=args.n_downsampling, n_blocks=args.n_blocks,
                                          skips=args.skips, generator=args.generator, seed=args.seed,
                                          held_out=args.held_out, precision=args.precision,
                                          perceptual=args.perceptual).items()
                    if v is not None})
    config = FilterTrainingConfig(**{**base.to_dict(), **changes})
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a plain `kill` saves a checkpoint like Ctrl-C
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:  # launched by torchrun
        import torch
        import torch.distributed as dist

        use_cuda = torch.cuda.is_available() and args.device in ("auto", "cuda")
        dist.init_process_group("nccl" if use_cuda else "gloo")
        if use_cuda:
            args.device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    trainer = FilterTrainer(args.run_dir, args.data, config, device=args.device, progress=not args.no_progress,
                            init_from=args.init_from)
    flt = trainer.train(max_minutes=args.max_minutes)
    if trainer.state.step < config.steps:
        print(f"faceedit distill train: stopped at step {trainer.state.step} of {config.steps}; run the same "
              f"command to resume")
        return 0
    if args.out and trainer.rank == 0:
        import torch

        flt.save_pretrained(args.out, dtype=getattr(torch, args.dtype))
    print(f"faceedit distill train: {trainer.state.step} steps, {trainer.state.train_seconds / 60:.1f} min"
          + (f" -> {args.out}" if args.out else f"; filter in {args.run_dir}/checkpoints/*/filter"))
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from distill.filter import Filter, check_strength
    from faceedit.alignment import FaceAligner
    from faceedit.utils.images import save_image

    if args.strength is not None:
        check_strength(args.strength)  # before loading anything
    flt = Filter.load(args.filter, model=args.model)
    aligner = FaceAligner.for_model(args.model, output_size=flt.resolution)
    result = flt.apply_photo(args.photo, every_face=args.every_face, aligner=aligner, strength=args.strength)
    save_image(result, args.out)
    strength = flt.default_strength if args.strength is None else args.strength
    shown = "" if strength == 1.0 else f" at strength {strength:g}"
    print(f"faceedit filters apply: {args.filter}{shown} -> {args.out}")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from distill.calibrate import CALIBRATION_SEED, calibrate_filter, pictures_from_folder
    from distill.filter import Filter

    folder = Path(args.filter)
    out = args.out or (folder if (folder / "config.json").is_file() else None)
    if out is None and not args.dry_run:
        raise ValueError(f"{args.filter!r} is a bundled filter: give --out FOLDER for the calibrated copy")
    if args.pictures is None and args.renders < 1:
        raise ValueError(f"--renders must be at least 1, got {args.renders}; or give --pictures FOLDER")
    if args.teacher_pairs < 1:
        raise ValueError(f"--teacher-pairs must be at least 1, got {args.teacher_pairs}")
    import faceedit
    from directions.classifiers.registry import make_classifier

    flt = Filter.load(args.filter, model=args.model)
    classifier_name = args.classifier or flt.metadata.get("dataset", {}).get("classifier")
    if not classifier_name:
        raise ValueError("the filter's dataset named no classifier: give --classifier (one that scores the "
                         "filter's attribute)")
    teacher = args.teacher or flt.metadata.get("teacher")
    if not teacher:
        raise ValueError("the filter's metadata names no teacher generator: give --teacher")
    G = faceedit.load_generator(teacher, device="cpu")
    if args.pictures is not None:
        pictures, skipped = pictures_from_folder(args.pictures, flt)
        source = f"{len(pictures)} pictures from {args.pictures}"
        for line in skipped:
            print(f"faceedit filters calibrate: skipped {line}")
    else:
        from faceedit.synthfaces import render_batch

        seed = CALIBRATION_SEED if args.render_seed is None else args.render_seed
        pictures, _ = render_batch(args.renders, seed=seed, resolution=flt.resolution)  # [N, 3, R, R]
        source = f"{args.renders} synthfaces renders, seed {seed}"
    calibration = calibrate_filter(flt, pictures, make_classifier(classifier_name), G, target=args.target,
                                   teacher_pairs=args.teacher_pairs, pictures_source=source, model=args.teacher or None)
    print(f"faceedit filters calibrate: {args.filter}: the teacher changes {calibration.attribute} by "
          f"{calibration.teacher_change:+.3f} on {calibration.teacher_pairs} of its own faces ({classifier_name}); "
          f"the filter on {source}: {calibration.change_at_one:+.3f} at strength 1, {calibration.change:+.3f} "
          f"({100 * calibration.ratio:.0f} %) at strength {calibration.strength:g}")
    if args.dry_run:
        return 0
    flt.default_strength = calibration.strength
    flt.metadata["calibration"] = calibration.to_dict()
    flt.save_pretrained(out)  # in the dtype it was stored in
    print(f"faceedit filters calibrate: default strength {calibration.strength:g} -> {out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from distill.filter import Filter

    flt = Filter.load(args.filter, model=args.model)
    path = flt.export_onnx(args.out, strength=args.strength)
    strength = flt.default_strength if args.strength is None else args.strength
    print(f"faceedit filters export: {args.filter} at strength {strength:g} -> {path} (input 'images' "
          f"[N, 3, R, R] in [-1, 1])")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from distill.filter import Filter, bundled_filters

    names = bundled_filters(args.model)
    if not names:
        print(f"no filters are bundled for {args.model}; train one with `faceedit distill train`")
    for name in names:
        flt = Filter.load(name, model=args.model)
        calibration = flt.metadata.get("calibration")
        how = (f"calibrated on {calibration['pictures_source']}" if calibration else "as distilled")
        # a filter fine-tuned from another records only its own run's steps; say so rather than understate them
        run = " in its last run" if flt.metadata.get("init_from") else ""
        print(f"{name:12s} {flt.resolution}x{flt.resolution}, {flt.metadata.get('training_steps', '?')} steps{run}, "
              f"default strength {flt.default_strength:g} ({how})")
    return 0
