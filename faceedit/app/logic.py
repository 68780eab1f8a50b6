"""The app's decisions: which models to offer, where a photo comes from, which filters an instant edit uses,
and what a person sees when something goes wrong.

Nothing here keeps or writes what a user uploads: photos live in the caller's session only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

__all__ = ["ModelChoice", "model_choices", "photo_key", "plan_instant_edit",
           "user_message", "outline_face", "instant_result", "MAX_UPLOAD_PIXELS"]

log = logging.getLogger(__name__)

MAX_UPLOAD_PIXELS = 40_000_000  # the app refuses larger photos (a phone's 48 MP mode: save a smaller copy)


@dataclass(frozen=True)
class ModelChoice:
    """A generator the model picker offers."""

    name: str  # registry name or path
    label: str  # what the picker shows
    installed: bool  # usable now (bundled, downloaded, or a local file)
    fetch_hint: str = ""  # how to get it when it is not installed


def model_choices(extra: Optional[str] = None) -> List[ModelChoice]:
    """Installed generators first (bundled before downloaded), then the registered ones that can be fetched.

    ``extra``: a path or name to offer first (the ``FACEEDIT_APP_MODEL`` setting).
    """
    from faceedit.hub import is_cached, list_models

    choices = [ModelChoice(extra, f"{extra} (from FACEEDIT_APP_MODEL)", True)] if extra else []
    specs = [spec for spec in list_models() if spec.kind == "generator"]
    installed = sorted((s for s in specs if is_cached(s)), key=lambda s: (not s.bundled, s.name))
    fetchable = sorted((s for s in specs if not is_cached(s)), key=lambda s: s.name)
    for spec in installed:
        where = "bundled" if spec.bundled else "downloaded"
        choices.append(ModelChoice(spec.name, f"{spec.name} ({where}, {spec.resolution}px)", True))
    for spec in fetchable:
        size = f", {spec.size / 1e6:.0f} MB" if spec.size else ""
        hint = (f"`faceedit models fetch {spec.name}` downloads it from {spec.url} ({spec.license}); "
                f"offline, download that file elsewhere and run `faceedit models fetch "
                f"{spec.name} --from-file FILE`")
        choices.append(ModelChoice(spec.name, f"{spec.name} (not downloaded{size})", False, hint))
    return choices


def photo_key(photo: np.ndarray) -> str:
    """A short content hash: the same photo gives the same key (to reuse its inversion), another photo not."""
    return hashlib.sha256(np.ascontiguousarray(photo).tobytes() + str(photo.shape).encode()).hexdigest()[:16]


def plan_instant_edit(
    filter_edits: Mapping[str, Tuple[str, float]],  # filter name -> (attribute, signed strength it applies)
    sliders: Mapping[str, float],  # attribute -> requested strength
) -> Tuple[List[Tuple[str, float]], List[str]]:
    """Which filters an instant edit runs, and how strongly.

    For each non-zero slider the filter for that attribute and sign is used; a slider below the filter's own
    strength blends the filter's output with the input (``blend = |slider| / |filter strength|``, at most 1).

    Returns:
        ``[(filter name, blend)]`` in slider order, and the attributes no filter can serve.
    """
    plan, missing = [], []
    for attribute, value in sliders.items():
        if not value:
            continue
        matches = [(name, strength) for name, (attr, strength) in sorted(filter_edits.items())
                   if attr == attribute and np.sign(strength) == np.sign(value)]
        if not matches:
            missing.append(attribute)
            continue
        name, strength = matches[0]
        plan.append((name, float(min(abs(value) / abs(strength), 1.0))))
    return plan, missing


def user_message(exc: BaseException) -> str:
    """What to tell a person about a failure: the library's own message for expected problems; for anything
    else a plain sentence (the traceback goes to the server log, never to the page)."""
    from faceedit.errors import FaceEditError

    if isinstance(exc, FaceEditError):
        return str(exc)
    if isinstance(exc, (IndexError, KeyError, ValueError)):
        return str(exc.args[0]) if exc.args else type(exc).__name__
    log.error("unexpected error in the app", exc_info=exc)
    return (f"Something went wrong ({type(exc).__name__}). Nothing you uploaded was stored; try another photo, "
            f"and if it keeps happening please report it with the server log.")


def outline_face(photo: np.ndarray, quad: np.ndarray, width: Optional[int] = None) -> np.ndarray:
    """The photo with the aligned crop's square drawn on it (to show which face is being edited)."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(photo)
    width = width or max(2, int(round(max(photo.shape[:2]) / 200)))
    corners = [tuple(float(v) for v in p) for p in np.asarray(quad)]
    ImageDraw.Draw(image).line(corners + corners[:1], fill=(255, 214, 0), width=width)
    return np.asarray(image)


def instant_result(editor, located, sliders: Dict[str, float]):
    """:func:`plan_instant_edit`'s filters, one after another on the located face (pasted back once); returns
    ``(EditResult or None when no slider has a filter, attributes without a filter)``."""
    plan, missing = plan_instant_edit(editor.filter_edits, sliders)
    return (editor.apply_filters(located, plan) if plan else None), missing
