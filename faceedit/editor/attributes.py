"""Which direction serves each editable attribute, and which filter."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Tuple

__all__ = ["choose_directions", "order_attributes", "filter_edit"]

FIRST_ATTRIBUTES = ("age", "gender")  # shown first wherever attributes are listed


def order_attributes(names: Iterable[str]) -> List[str]:
    """Age and gender first, then the rest alphabetically."""
    names = set(names)
    return [a for a in FIRST_ATTRIBUTES if a in names] + sorted(names - set(FIRST_ATTRIBUTES))


def choose_directions(directions: Mapping[str, object]) -> Dict[str, str]:
    """``{attribute: direction name}``: for each attribute the conditional direction with the fewest conditions
    (``age-orth-gender`` before ``age-orth-gender-glasses``), else the plain one.

    A conditional direction keeps the attributes it was made orthogonal to, which is what someone moving an
    age slider expects; one condition removes the main confounder while staying closest to the naive edit.
    """
    best: Dict[str, Tuple[int, str]] = {}
    for name, direction in directions.items():
        conditions = len(direction.conditioned_on)
        rank = (0 if conditions else 1, conditions, name)  # conditional first, then fewer conditions
        if direction.attribute not in best or rank < best[direction.attribute]:
            best[direction.attribute] = rank
    return {attribute: best[attribute][-1] for attribute in order_attributes(best)}


def filter_edit(metadata: Mapping, directions: Mapping[str, object]) -> Tuple[str, float]:
    """``(attribute, strength)`` a distilled filter was trained to apply, from its metadata.

    The strength is the middle of the dataset's edit range (negative for e.g. 'younger'); the attribute is
    that of the teacher direction (looked up among ``directions`` by name, else the part before ``-orth-``).
    """
    spec = metadata.get("dataset", {})
    name = str(spec.get("direction", ""))
    if not name:
        raise ValueError("the filter's metadata does not say which direction it was distilled from")
    key = Path(name).name
    key = key[: -len(".json")] if key.endswith(".json") else key
    direction = directions.get(key)
    attribute = direction.attribute if direction is not None else key.split("-orth-")[0]
    strength = (float(spec.get("alpha_min", 0.0)) + float(spec.get("alpha_max", 0.0))) / 2
    return attribute, strength
