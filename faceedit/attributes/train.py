"""Training and held-out evaluation of the synthfaces attribute classifiers."""

from __future__ import annotations

import math
import time
from typing import Any, Dict, Mapping, Optional, Union

import torch

from faceedit.attributes.model import AttributeNet, heads_from_factors
from faceedit.utils.device import resolve_device

__all__ = ["CLASSIFIER_PRESETS", "build_classifier", "train_classifier", "evaluate_classifier", "render_test_set",
           "HELD_OUT_SEED"]

# Test renders come from their own seed stream, which no training stream uses.
HELD_OUT_SEED = 777_000_777

# Labeler and judge differ in architecture, initial weights and training data, so the judge's
# errors are not the labeler's errors.
CLASSIFIER_PRESETS: Dict[str, Dict[str, Any]] = {
    "labeler": dict(architecture=dict(widths=(32, 64, 128, 128), stem_kernel=3, residual=False, feature_dim=256),
                    seed=1, data_seed=1001),
    "judge": dict(architecture=dict(widths=(48, 96, 160, 192), stem_kernel=5, residual=True, feature_dim=256),
                  seed=2, data_seed=2002),
}


def build_classifier(role: str, resolution: int = 64) -> AttributeNet:
    """A freshly initialised labeler or judge (seeded)."""
    if role not in CLASSIFIER_PRESETS:
        raise ValueError(f"unknown classifier role {role!r}; choose one of {sorted(CLASSIFIER_PRESETS)}")
    preset = CLASSIFIER_PRESETS[role]
    torch.manual_seed(preset["seed"])
    return AttributeNet(heads=heads_from_factors(), input_resolution=resolution, **preset["architecture"])


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mild noise, blur and contrast changes, so the judge also reads imperfect (generated) faces."""
    n = images.shape[0]
    device = images.device
    blur = torch.rand(n, 1, 1, 1, generator=generator).to(device) < 0.3
    blurred = torch.nn.functional.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)
    images = torch.where(blur, blurred, images)
    contrast = (1 + 0.15 * (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1)).to(device)
    sigma = 0.04 * torch.rand(n, 1, 1, 1, generator=generator)  # [N, 1, 1, 1] noise strength per image
    noise = torch.randn(images.shape, generator=generator) * sigma  # [N, 3, H, W]
    images = images * contrast + noise.to(device)
    return images.clamp(-1, 1)


def train_classifier(
    net: AttributeNet,
    steps: int = 2000,  # optimisation steps
    batch_size: int = 128,  # renders per step
    lr: float = 2e-3,  # peak Adam learning rate (cosine decay to 5 %)
    data_seed: int = 0,  # seed of the training render stream
    resolution: int = 64,  # render resolution
    device: Union[str, torch.device, None] = None,  # None = CUDA when available, else CPU
    progress: bool = True,  # show a progress bar
) -> AttributeNet:
    """Train ``net`` on a fresh stream of synthfaces renders (every batch is new data)."""
    from tqdm.auto import tqdm

    from faceedit.synthfaces import render_batch
    from faceedit.training.data import batch_seed

    target = resolve_device(device)
    net.to(target).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s / max(steps, 1), 1.0))))
    augment_rng = torch.Generator().manual_seed(data_seed)
    with tqdm(range(steps), desc="classifier", disable=not progress, dynamic_ncols=True) as bar:
        for step in bar:
            images, labels = render_batch(batch_size, seed=batch_seed(data_seed, step), resolution=resolution)
            images = _augment(images, augment_rng).to(target)
            losses = net.loss(net(images), labels)
            total = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            schedule.step()
            if step % 20 == 0:
                bar.set_postfix(loss=f"{float(total.detach()):.3f}")
    return net.eval()


def render_test_set(n: int = 10_000, resolution: int = 64, seed: int = HELD_OUT_SEED, chunk: int = 500):
    """Held-out renders and labels ``([n, 3, R, R], {factor: [n]})``, from a seed no training run uses."""
    from faceedit.synthfaces import render_batch
    from faceedit.training.data import batch_seed

    images, labels = [], []
    for index, start in enumerate(range(0, n, chunk)):
        x, y = render_batch(min(chunk, n - start), seed=batch_seed(seed, index), resolution=resolution)
        images.append(x)
        labels.append(y)
    return torch.cat(images), {k: torch.cat([y[k] for y in labels]) for k in labels[0]}


def evaluate_classifier(net: AttributeNet, images: torch.Tensor, labels: Mapping[str, torch.Tensor],
                        batch_size: int = 500) -> Dict[str, Dict[str, float]]:
    """Held-out metrics per factor, each beside the score of the best constant guess (chance).

    Continuous factors: mean absolute error (``mae``, in the factor's units), ``r2``, and
    ``chance_mae`` (always predicting the median). Binary and categorical factors: ``accuracy``
    and ``chance_accuracy`` (always predicting the most frequent class).
    """
    predictions = net.predict(images, batch_size=batch_size)
    metrics: Dict[str, Dict[str, float]] = {}
    for head in net.heads:
        name = head["name"]
        y = labels[name].float().cpu()
        p = predictions[name].float().cpu()
        if head["kind"] == "continuous":
            mae = float((p - y).abs().mean())
            r2 = 1 - float(((p - y) ** 2).sum() / ((y - y.mean()) ** 2).sum().clamp_min(1e-12))
            metrics[name] = dict(mae=mae, r2=r2, chance_mae=float((y - y.median()).abs().mean()))
        else:
            guess = (p > 0.5).float() if head["kind"] == "binary" else p.argmax(dim=1).float()
            counts = torch.bincount(y.long())
            metrics[name] = dict(accuracy=float((guess == y).float().mean()),
                                 chance_accuracy=float(counts.max()) / len(y))
    return metrics


def train_and_evaluate(role: str, steps: int, batch_size: int = 128, test_size: int = 10_000,
                       device: Optional[str] = None, progress: bool = True) -> AttributeNet:
    """Build, train and evaluate a labeler or judge; metrics and provenance go into ``net.metadata``."""
    net = build_classifier(role)
    preset = CLASSIFIER_PRESETS[role]
    start = time.monotonic()
    train_classifier(net, steps=steps, batch_size=batch_size, data_seed=preset["data_seed"], device=device,
                     progress=progress)
    seconds = time.monotonic() - start
    images, labels = render_test_set(test_size)
    metrics = evaluate_classifier(net, images, labels)
    net.metadata = dict(role=role, steps=steps, batch_size=batch_size, train_images=steps * batch_size,
                        train_seconds=round(seconds, 1), data_seed=preset["data_seed"], seed=preset["seed"],
                        test_size=test_size, test_seed=HELD_OUT_SEED, held_out_metrics=metrics)
    return net
