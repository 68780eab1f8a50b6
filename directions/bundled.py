"""Directions shipped inside the package, by model name: ``directions/assets/MODEL/NAME.{json,safetensors}``.

Each bundled model's directions were fitted on exactly the bundled weights; a test checks that their
recorded fingerprints still match, so re-exporting a generator without refitting is caught.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Union

from directions.io import Direction, load_direction

__all__ = ["BUNDLED_DIRECTIONS_DIR", "bundled_directions", "load_bundled_direction", "resolve_direction"]

BUNDLED_DIRECTIONS_DIR = Path(__file__).resolve().parent / "assets"  # one folder per bundled model


def bundled_directions(model: str) -> List[str]:
    """Names of the directions bundled for ``model`` (e.g. ``'synthfaces-64'``), sorted; empty if none."""
    folder = BUNDLED_DIRECTIONS_DIR / model
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def load_bundled_direction(model: str, name: str, generator=None) -> Direction:
    """The bundled direction ``name`` of ``model``; with ``generator``, check it matches.

    Raises:
        KeyError: no such bundled direction; the message lists the ones there are.
    """
    names = bundled_directions(model)
    if name not in names:
        have = ", ".join(names) if names else "none"
        raise KeyError(f"no bundled direction {name!r} for {model!r} (bundled: {have}); fit one with "
                       f"`faceedit directions fit --model {model} --attribute {name} --out DIR`")
    return load_direction(BUNDLED_DIRECTIONS_DIR / model / name, generator=generator)


def resolve_direction(spec: Union[str, Path], model: Optional[str] = None, generator=None) -> Direction:
    """A direction from a file path (``NAME.json`` or ``NAME``) or, failing that, a bundled name of ``model``."""
    path = Path(spec)
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    if stem.with_name(stem.name + ".json").exists() or model is None:
        return load_direction(stem, generator=generator)
    try:
        return load_bundled_direction(model, str(spec), generator=generator)
    except KeyError as exc:
        raise FileNotFoundError(f"{spec} is neither a direction file (NAME.json + NAME.safetensors) nor a "
                                f"bundled direction: {exc.args[0]}") from None
