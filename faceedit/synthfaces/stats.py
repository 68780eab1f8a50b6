"""Measuring the correlations built into the synthfaces world.

    python -m faceedit.synthfaces stats --n 10000      # prints the Markdown table of docs/synthfaces.md

Measures come from :func:`~faceedit.synthfaces.factors.sample_factors` and
:func:`~faceedit.synthfaces.factors.appearance` (no rendering needed), so 10k faces take
well under a second.
"""

from __future__ import annotations

from typing import List, Tuple

import torch

from faceedit.synthfaces.factors import appearance, sample_factors

__all__ = ["pearson", "measure_correlations", "correlations_markdown"]


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of two ``[N]`` samples (0 when either is constant)."""
    a = a.double() - a.double().mean()
    b = b.double() - b.double().mean()
    denominator = float(a.norm() * b.norm())
    return float((a * b).sum()) / denominator if denominator > 0 else 0.0


def _rate(mask: torch.Tensor, within: torch.Tensor) -> float:
    """Fraction of ``within`` where ``mask`` holds (nan when ``within`` is empty)."""
    count = int(within.sum())
    return float((mask & within).sum()) / count if count else float("nan")


def _mean(values: torch.Tensor, within: torch.Tensor) -> float:
    return float(values[within].double().mean()) if bool(within.any()) else float("nan")


def measure_correlations(n: int = 10_000, seed: int = 0) -> List[Tuple[str, str, float]]:
    """The world's built-in correlations measured on ``n`` sampled faces.

    Returns:
        rows ``(relation, measure, value)``; values are Pearson correlations, rates (fractions) or
        mean amounts in [0, 1].
    """
    p = sample_factors(n, seed)
    look = appearance(p)
    age, gender, skin = p["age"], p["gender"], p["skin_tone"]
    young, old = age < 0.3, age > 0.7
    feminine, masculine = gender < 0.4, gender > 0.6
    has_beard = p["beard"] > 0
    glasses = p["glasses"] > 0.5
    light_skin, dark_skin = skin < 0.3, skin > 0.7
    hair = p["hair_color"].round().long()
    blonde_or_red = hair >= 2
    bald = look["baldness"] > 0.5
    everyone = torch.ones_like(glasses)
    return [
        ("gender vs age", "P(gender > 0.5 | age < 0.3)", _rate(gender > 0.5, young)),
        ("gender vs age", "P(gender > 0.5 | age > 0.7)", _rate(gender > 0.5, old)),
        ("gender vs age", "corr(age, gender)", pearson(age, gender)),
        ("beard vs gender", "P(beard > 0 | gender < 0.6)", _rate(has_beard, gender < 0.6)),
        ("beard vs gender", "P(beard > 0 | gender > 0.8)", _rate(has_beard, gender > 0.8)),
        ("beard vs gender", "corr(gender, beard)", pearson(gender, p["beard"])),
        ("beard vs age", "P(beard > 0 | gender > 0.8, age < 0.3)", _rate(has_beard, (gender > 0.8) & young)),
        ("beard vs age", "P(beard > 0 | gender > 0.8, age > 0.7)", _rate(has_beard, (gender > 0.8) & old)),
        ("glasses vs age", "P(glasses | age < 0.3)", _rate(glasses, young)),
        ("glasses vs age", "P(glasses | age > 0.7)", _rate(glasses, old)),
        ("glasses vs age", "corr(age, glasses)", pearson(age, p["glasses"])),
        ("glasses", "P(glasses), all faces", _rate(glasses, everyone)),
        ("grey hair vs age", "corr(age, grey)", pearson(age, look["grey"])),
        ("grey hair vs age", "mean grey | age < 0.3", _mean(look["grey"], young)),
        ("grey hair vs age", "mean grey | age > 0.7", _mean(look["grey"], old)),
        ("baldness vs age, gender", "P(baldness > 0.5 | gender > 0.6, age > 0.7)", _rate(bald, masculine & old)),
        ("baldness vs age, gender", "P(baldness > 0.5 | gender < 0.4, age > 0.7)", _rate(bald, feminine & old)),
        ("baldness vs age, gender", "P(baldness > 0.5 | gender > 0.6, age < 0.3)", _rate(bald, masculine & young)),
        ("baldness vs age, gender", "corr(age, baldness)", pearson(age, look["baldness"])),
        ("hair length vs gender", "corr(gender, hair_length)", pearson(gender, look["hair_length"])),
        ("hair length vs gender", "mean hair_length | gender < 0.4", _mean(look["hair_length"], feminine)),
        ("hair length vs gender", "mean hair_length | gender > 0.6", _mean(look["hair_length"], masculine)),
        ("hair colour vs skin tone", "P(blonde or red | skin_tone < 0.3)", _rate(blonde_or_red, light_skin)),
        ("hair colour vs skin tone", "P(blonde or red | skin_tone > 0.7)", _rate(blonde_or_red, dark_skin)),
        ("hair colour vs skin tone", "P(black | skin_tone > 0.7)", _rate(hair == 0, dark_skin)),
        ("wrinkles vs age", "corr(age, wrinkles)", pearson(age, look["wrinkles"])),
        ("independent (control)", "corr(smile, gender)", pearson(p["smile"], gender)),
        ("independent (control)", "corr(smile, age)", pearson(p["smile"], age)),
        ("independent (control)", "corr(yaw, light)", pearson(p["yaw"], p["light"])),
    ]


def correlations_markdown(n: int = 10_000, seed: int = 0) -> str:
    """:func:`measure_correlations` as a Markdown table."""
    lines = [f"Measured on {n:,} faces, `sample_factors({n}, seed={seed})`:", "",
             "| relation | measure | value |", "|---|---|---:|"]
    for relation, measure, value in measure_correlations(n, seed):
        escaped = measure.replace("|", "\\|")  # a bar inside a cell would end it
        lines.append(f"| {relation} | {escaped} | {value:.3f} |")
    return "\n".join(lines)
