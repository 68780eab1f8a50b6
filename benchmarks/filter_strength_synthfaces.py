"""How a filter's strength trades fidelity for change on pictures the GAN never made, and how much change the
teacher itself carries onto such pictures.

For each filter (``NAME=FILTER,DATASET`` as in distill_synthfaces.py, whose held-out pairs, fresh renders and
teacher's change it shares) and each strength ``s`` (``Filter.apply_tensor(..., strength=s)``: the input plus
``s`` times the filter's change):

* fidelity: PSNR against the teacher's edited image on the dataset's held-out pairs;
* generalisation: the judged change on fresh renders (distill_synthfaces.py's), as a fraction of the teacher's
  change on GAN samples (the issue's ratio), and the filter's judged change on the teacher's own inputs.

And once per filter, the *inversion route* on renders (distill/anchors.py, what anchored datasets are made
of): each render plus the teacher's change around the render's encoded latent,
``A + G(enc(A) + alpha d) - G(enc(A))``, for seeds no dataset uses. Its judged change, as a fraction of the
teacher's change on GAN samples, is what the teacher itself does to such pictures; the filter at strength 1 on
the same renders, as a fraction of it, says how much of that the filter reproduces.

With ``--route-projection-steps N``, the route is measured a second time with each render's latent refined by
``N`` W+ projection steps from the encoder's (``faceedit.inversion.Projector``, noise maps kept): whether a
closer reconstruction carries more of the teacher's change.

The teacher's change on GAN samples is measured twice: on the held-out pairs, which passed the dataset's
classifier filter (the issue's ratio, as distill_synthfaces.py), and on unfiltered pairs of the same request
(distill_synthfaces.py's ``GAN_SEED``), which, like the renders, nobody chose: the like-for-like reference.

    python benchmarks/filter_strength_synthfaces.py \\
        --filter older=older,runs/pairs-synthfaces-64/older-1a6aa4833adc-0-8191 --strength 1,1.1,1.2,1.3 \\
        --json benchmarks/results/filter_strength_synthfaces-64.json --images docs/images
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_record  # noqa: E402
from distill_synthfaces import GAN_SEED, RENDER_SEED, filter_and_teacher_pairs  # noqa: E402

from distill.dataset import dataset_attribute, request_spec, unfiltered_pairs  # noqa: E402
from distill.filter import apply_in_batches  # noqa: E402

ANCHOR_SEED = 300_000  # first seed of the inversion route's renders: above every dataset's seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", action="append", required=True, metavar="NAME=FILTER,DATASET")
    parser.add_argument("--strength", default="1,1.1,1.2,1.3,1.4", help="comma-separated strengths")
    parser.add_argument("--judge", default="synthfaces-judge")
    parser.add_argument("--model", default="synthfaces-64", help="the teacher generator (for the inversion route)")
    parser.add_argument("--held-out", type=int, default=64)
    parser.add_argument("--renders", type=int, default=256)
    parser.add_argument("--gan-samples", type=int, default=512, help="unfiltered GAN pairs of the dataset's request")
    parser.add_argument("--route-projection-steps", type=int, default=0,
                        help="also measure the inversion route with latents refined by this many W+ projection "
                             "steps; 0 = skip")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--images", type=Path, default=None, help="write a strip per filter (renders, then each "
                                                                   "strength) here")
    args = parser.parse_args()
    if args.gan_samples < 1:
        parser.error(f"--gan-samples must be at least 1 (the unfiltered teacher's change needs pairs), "
                     f"got {args.gan_samples}")

    import faceedit
    from directions.classifiers.registry import make_classifier
    from faceedit.inversion.api import load_encoder_for
    from faceedit.synthfaces import render_batch
    from faceedit.utils.images import images_from_tensor, make_grid, save_png
    from faceedit.utils.metrics import psnr

    torch.set_grad_enabled(False)
    strengths = [float(s) for s in args.strength.split(",")]
    judge = make_classifier(args.judge)
    G = faceedit.load_generator(args.model, device="cpu")
    encoder = load_encoder_for(Path(str(args.model)).name, device="cpu")
    renders, _ = render_batch(args.renders, seed=RENDER_SEED, resolution=G.img_resolution)  # [N, 3, H, W]
    rows = []
    for spec_text in args.filter:
        name, flt, A, B, header = filter_and_teacher_pairs(spec_text)
        attribute = dataset_attribute(header)
        a = (A[-args.held_out:].float() - 128) / 127.5  # [n, 3, H, W] in [-1, 1]
        b = (B[-args.held_out:].float() - 128) / 127.5
        on_a = judge(a)[attribute]  # [n], judged once for every strength
        teacher = float((judge(b)[attribute] - on_a).mean())
        on_renders = judge(renders)[attribute]
        gan_a, gan_b = unfiltered_pairs(G, header, args.model, args.gan_samples, GAN_SEED)  # [M, 3, H, W] each
        unfiltered = float((judge(gan_b)[attribute] - judge(gan_a)[attribute]).mean())

        anchors, carried = unfiltered_pairs(G, header, args.model, args.renders, ANCHOR_SEED, encoder,
                                            anchor="synthfaces")  # [N, 3, H, W] each
        on_anchors = judge(anchors)[attribute]
        route_change = float((judge(carried)[attribute] - on_anchors).mean())
        filter_on_anchors = float((judge(apply_in_batches(flt, anchors, 1.0))[attribute] - on_anchors).mean())
        projected = {}
        if args.route_projection_steps:
            projected = projected_route(G, header, args.model, anchors, encoder, args.route_projection_steps)
            projected["route_change_on_renders"] = change = float(
                (judge(projected.pop("carried"))[attribute] - on_anchors).mean())
            projected.update(route_ratio=change / teacher, route_ratio_unfiltered=change / unfiltered)
            print(f"{name}: with {args.route_projection_steps} W+ projection steps (reconstruction "
                  f"{projected['reconstruction_psnr_encoder']:.2f} -> {projected['reconstruction_psnr']:.2f} dB) "
                  f"the route changes {attribute} on renders by {change:+.3f} ({100 * change / unfiltered:.0f} % "
                  f"of the teacher on unfiltered GAN samples)")

        by_strength, strip = [], [renders[:8]]
        for strength in strengths:
            out = apply_in_batches(flt, a, strength)
            filtered = apply_in_batches(flt, renders, strength)
            change = float((judge(filtered)[attribute] - on_renders).mean())
            on_gan = float((judge(out)[attribute] - on_a).mean())
            by_strength.append(dict(strength=strength, psnr=float(psnr(out, b).mean()), change_on_renders=change,
                                    ratio=change / teacher, ratio_unfiltered=change / unfiltered,
                                    change_on_gan_samples=on_gan,
                                    ratio_on_gan_samples=on_gan / teacher))
            strip.append(filtered[:8])
            print(f"{name} at strength {strength:g}: PSNR {by_strength[-1]['psnr']:.2f} dB; judged {attribute} "
                  f"change on renders {change:+.3f} ({100 * change / teacher:.0f} % of the teacher's {teacher:+.3f} "
                  f"on GAN samples; {100 * change / unfiltered:.0f} % of its {unfiltered:+.3f} on unfiltered ones), on "
                  f"the teacher's inputs {on_gan:+.3f} ({100 * on_gan / teacher:.0f} %)")
        row = dict(filter=name, attribute=attribute, default_strength=flt.default_strength, teacher_change=teacher,
                   held_out=len(a), renders=len(renders),
                   gan_samples=len(gan_a), teacher_change_unfiltered=unfiltered,
                   strengths=by_strength, route_renders=len(anchors), route_change_on_renders=route_change,
                   route_ratio=route_change / teacher, route_ratio_unfiltered=route_change / unfiltered,
                   filter_change_on_route_renders=filter_on_anchors,
                   filter_to_route=filter_on_anchors / route_change if route_change else float("nan"),
                   route_projected=projected, spec=dataclasses.asdict(request_spec(header, anchor="synthfaces")))
        rows.append(row)
        print(f"{name}: the inversion route changes {attribute} on renders by {route_change:+.3f} "
              f"({100 * row['route_ratio']:.0f} % of the teacher on GAN samples, "
              f"{100 * row['route_ratio_unfiltered']:.0f} % on unfiltered ones); the filter at strength 1 on the "
              f"same renders {filter_on_anchors:+.3f} ({100 * row['filter_to_route']:.0f} % of the route)")
        if args.images:
            save_png(make_grid(images_from_tensor(torch.cat(strip)), cols=8).repeat(2, 0).repeat(2, 1),
                     args.images / f"filter-strength-{name}.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dict(rows=rows, judge=judge.name, render_seed=RENDER_SEED,
                                             gan_seeds=[GAN_SEED, GAN_SEED + args.gan_samples - 1],
                                             anchor_seeds=[ANCHOR_SEED, ANCHOR_SEED + args.renders - 1],
                                             **run_record()), indent=2) + "\n")
    return 0


def projected_route(G, header, model: str, anchors: torch.Tensor, encoder, steps: int):
    """The inversion route on ``anchors`` (the route's renders, ``[N, 3, R, R]``, seeds from ``ANCHOR_SEED``) with
    the encoder's latents refined by ``steps`` W+ projection steps: a dict with the ``carried`` images and the
    reconstruction PSNR from the encoder's latents and from the refined ones."""
    from faceedit.inversion.encoder import encode_images
    from faceedit.inversion.projector import Projector
    from faceedit.utils.metrics import psnr

    start = torch.cat([encode_images(encoder, anchors[i:i + 64]) for i in range(0, len(anchors), 64)])
    refined = Projector(space="w+", steps=steps, optimize_noise=False, early_stop_patience=None).project(
        G, anchors, w_init=start)  # one batch: images in it are independent
    _, carried = unfiltered_pairs(G, header, model, len(anchors), ANCHOR_SEED, anchor_latents=refined.ws,
                                  anchor="synthfaces")
    reconstructed = G.synthesis(start, noise_mode="const")  # [N, 3, R, R]
    return dict(carried=carried, projection_steps=steps, projection_seconds=refined.seconds,
                reconstruction_psnr_encoder=float(psnr(reconstructed, anchors).mean()),
                reconstruction_psnr=float(psnr(refined.images, anchors).mean()))


if __name__ == "__main__":
    sys.exit(main())
