"""Choosing the W+ rows an edit should touch.

StyleGAN's coarse rows set pose, head shape and background; an attribute that lives in the middle and
fine rows (age: wrinkles, grey hair) drags those along when edited on every row. :func:`choose_layers`
measures, with a classifier that may build things (the labeler, never the judge), how much of the
attribute's change survives when the first rows are left alone, and picks the latest first row that keeps
a chosen share of it. The direction's unit then grows by the share it lost (``layer_gain``), so a slider
step moves the attribute as much on the chosen rows as on all of them. On the 370 kimg ``synthfaces-64``
the judge confirmed the idea: age edited on rows
3-9 keeps 90 % of the judged age change, moves the pixels outside the face 4x less, and halves the judged
gender change; gender needs every row (its change collapses without the coarse ones), and the rule keeps
all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ["LayerChoice", "choose_layers", "with_chosen_layers"]


@dataclass
class LayerChoice:
    """What :func:`choose_layers` measured and chose."""

    layers: Tuple[int, int]  # (start, num_ws): the rows to edit
    target_change: np.ndarray  # [num_ws] mean classifier change of the attribute when editing rows s.. (s = index)
    outside_change: np.ndarray  # [num_ws] mean absolute pixel change outside the face (0-2 scale), same rows
    keep: float  # share of the all-rows change the choice had to keep
    steadiness: Optional[np.ndarray] = None  # [num_ws] share of faces whose attribute rose at every step of the
    #                                          strength-matched sweep from row s (NaN: not a candidate); None = unused

    @property
    def gain(self) -> float:
        """How much longer a step on the chosen rows must be to move the attribute as much as on every row."""
        return _gain(self.target_change, self.layers[0])

    def to_dict(self) -> Dict[str, Any]:
        rounded = lambda values: [round(float(v), 5) for v in values]  # noqa: E731
        record = dict(layers=list(self.layers), keep=self.keep, gain=round(self.gain, 5),
                      target_change=rounded(self.target_change), outside_change=rounded(self.outside_change))
        if self.steadiness is not None:
            record["steadiness"] = [None if np.isnan(v) else round(float(v), 5) for v in self.steadiness]
        return record


def _gain(target_change: np.ndarray, start: int) -> float:
    """All-rows change over the change from row ``start``: how much longer a step there must be."""
    return float(target_change[0] / target_change[start])


def choose_layers(
    G,  # faceedit Generator
    direction,  # directions.Direction fitted on G
    classifier,  # AttributeClassifier that may build (the labeler), with the direction's attribute
    keep: float = 0.9,  # share of the all-rows change of the attribute the chosen rows must keep
    alpha: float = 2.0,  # edit strength, in the direction's units (std of the boundary distance)
    n: int = 256,  # faces
    seed: int = 0,  # seed of the faces
    truncation_psi: float = 0.7,
    steady_alphas: Optional[Sequence[float]] = None,  # None: choose the latest row that keeps `keep`; else, among
    #   those rows, the one whose strength-matched edit rises for the most faces at every step of these strengths
    progress: bool = True,
) -> LayerChoice:
    """Edit rows ``s..num_ws`` for every first row ``s``; choose the latest ``s`` that keeps ``keep`` of the change.

    With ``steady_alphas`` (e.g. the slider's range, ``(-3, -2, ..., 3)``), every row that keeps ``keep`` is a
    candidate: its edit, with the unit scaled by its gain so every candidate moves the attribute equally, is
    swept over those strengths, and the candidate for which the classifier sees the attribute rise at every
    step on the most faces wins (ties: the later row, which leaves more of the picture alone). An edit that
    wobbles on the way is what a user notices on a slider; fine rows often rise more steadily than coarse ones.

    Returns:
        A :class:`LayerChoice`; ``choice.layers`` goes into ``Direction.layers``.

    Example:
        >>> choice = choose_layers(G, age, make_classifier("synthfaces-labeler"))  # doctest: +SKIP
        >>> age = dataclasses.replace(age, layers=choice.layers)  # doctest: +SKIP
    """
    from directions.evaluation import SweepSetting, edit_sweeps, monotonic_fraction

    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    faces = dict(n=n, seed=seed, truncation_psi=truncation_psi, progress=progress)
    sweeps = edit_sweeps(G, direction.vector, classifier, [SweepSetting((0.0, alpha), direction.projection_std,
                                                                        (start, G.num_ws))
                                                           for start in range(G.num_ws)], **faces)
    if direction.attribute not in sweeps[0].scores:
        raise ValueError(f"the classifier gives no {direction.attribute!r} score; it gives {sorted(sweeps[0].scores)}")
    target = np.array([float(np.mean(sweep.scores[direction.attribute][1] - sweep.scores[direction.attribute][0]))
                       for sweep in sweeps])  # [num_ws] mean change when editing rows s..
    outside = np.array([float(sweep.outside_change[1].mean()) for sweep in sweeps])  # [num_ws]
    if target[0] <= 0:
        raise ValueError(f"editing every row does not raise {direction.attribute} by the classifier "
                         f"({target[0]:+.4f}); the direction or the classifier is wrong for this generator")
    candidates = [s for s in range(G.num_ws) if target[s] >= keep * target[0]]
    if steady_alphas is None:
        return LayerChoice(layers=(candidates[-1], G.num_ws), target_change=target, outside_change=outside, keep=keep)
    settings = [SweepSetting(steady_alphas, direction.projection_std * _gain(target, start), (start, G.num_ws))
                for start in candidates]  # strength-matched units
    steadiness = np.full(G.num_ws, np.nan)
    for start, sweep in zip(candidates, edit_sweeps(G, direction.vector, classifier, settings, **faces)):
        steadiness[start] = monotonic_fraction(sweep, direction.attribute)
    best = max(candidates, key=lambda s: (steadiness[s], s))
    return LayerChoice(layers=(best, G.num_ws), target_change=target, outside_change=outside, keep=keep,
                       steadiness=steadiness)


def with_chosen_layers(
    G,  # faceedit Generator the directions were fitted on
    directions,  # Mapping[str, Direction]
    classifier,  # AttributeClassifier that may build (the labeler)
    keep: float = 0.9,  # see choose_layers
    match_strength: bool = True,  # scale each unit by the choice's gain (Direction.layer_gain)
    **options,  # further choose_layers options (alpha, n, seed, truncation_psi, steady_alphas, progress)
):
    """``{name: direction}`` with each direction's ``layers`` set by :func:`choose_layers`.

    With ``match_strength``, ``layer_gain`` is set too, so alpha keeps its meaning (a unit moves the
    attribute as much as a unit on every row did). The measurements go into
    ``direction.extra['layer_choice']``, so a direction file says why it edits the rows it does.
    """
    import dataclasses

    chosen = {}
    for name, direction in directions.items():
        choice = choose_layers(G, direction, classifier, keep=keep, **options)
        chosen[name] = dataclasses.replace(direction, layers=choice.layers,
                                           layer_gain=choice.gain if match_strength else 1.0,
                                           extra={**direction.extra, "layer_choice": choice.to_dict()})
    return chosen
