"""The app's decisions: which models to offer, how an upload becomes a photo, which filters an instant edit
uses and how strongly, and what a person sees when something goes wrong.

Nothing here keeps or writes what a user uploads: photos live in the caller's session only.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = ["ModelChoice", "model_choices", "is_face_model", "paths_allowed", "photo_key", "decode_upload",
           "instant_blend", "plan_instant_edit", "instant_note", "slider_help", "faces_message", "user_message",
           "outline_face", "instant_result", "MAX_UPLOAD_PIXELS", "ALLOW_PATHS_ENV", "FACE_DATASETS"]

log = logging.getLogger(__name__)

MAX_UPLOAD_PIXELS = 40_000_000  # the app refuses larger photos (a phone's 48 MP mode: save a smaller copy)
ALLOW_PATHS_ENV = "FACEEDIT_APP_ALLOW_PATHS"  # "1": the picker also takes a server path (operators only)
FACE_DATASETS = ("FFHQ", "CelebA")  # registered training sets of face generators whose name says no "face"


@dataclass(frozen=True)
class ModelChoice:
    """A generator the model picker offers."""

    name: str  # registry name or path
    label: str  # what the picker shows
    installed: bool  # usable now (bundled, downloaded, or a local file)
    fetch_hint: str = ""  # how to get it when it is not installed


def is_face_model(spec) -> bool:
    """Whether a registered generator draws faces (the app edits faces; cats, cells and CIFAR-10 are not).

    Args:
        spec: a ``faceedit.hub.registry.ModelSpec``.

    Returns:
        True for generators trained on faces: FFHQ, CelebA-HQ, MetFaces, synthfaces, or any dataset whose
        name contains "face" (so a model registered with ``dataset="my faces"`` is offered too).
    """
    dataset = str(spec.dataset)
    return spec.kind == "generator" and ("face" in dataset.lower() or dataset.startswith(FACE_DATASETS))


def paths_allowed(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the picker may load a generator from a path typed into the page.

    Off by default: a public app must not let a visitor make the server read any file it can reach. The
    operator turns it on with ``FACEEDIT_APP_ALLOW_PATHS=1``.

    Args:
        environ: the environment to read (default: ``os.environ``).

    Returns:
        True only when ``FACEEDIT_APP_ALLOW_PATHS`` is ``1``.
    """
    return (os.environ if environ is None else environ).get(ALLOW_PATHS_ENV, "") == "1"


def model_choices(extra: Optional[str] = None) -> List[ModelChoice]:
    """Installed face generators first (bundled before downloaded), then the registered ones to fetch.

    Args:
        extra: a path or name to offer first (the operator's ``FACEEDIT_APP_MODEL`` setting).

    Returns:
        The picker's entries, in the order shown; non-face generators (AFHQ, BreCaHAD, CIFAR-10) are left out.
    """
    from faceedit.hub import is_cached, list_models

    choices = [ModelChoice(extra, f"{extra} (from FACEEDIT_APP_MODEL)", True)] if extra else []
    specs = [spec for spec in list_models() if is_face_model(spec)]
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


def decode_upload(data: bytes, max_pixels: int = MAX_UPLOAD_PIXELS) -> np.ndarray:
    """An uploaded file's bytes as an RGB photo, in memory only.

    Args:
        data: the file's bytes, as the browser sent them.
        max_pixels: larger images are refused from their header, before any pixel is decoded.

    Returns:
        ``uint8 [H, W, 3]``, upright by its EXIF orientation.

    Raises:
        InvalidImageError: not an image, damaged, too large or too small (the message says which).
    """
    from faceedit.alignment import load_image

    return load_image(bytes(data), max_pixels=max_pixels)


def instant_blend(value: float, strength: float) -> float:
    """How much of a filter's edit the instant mode applies for a slider value.

    A filter makes one edit, of the strength it was distilled at (``strength``, e.g. 2.25 for the bundled
    ``older``). The instant mode applies ``face + blend * (filter(face) - face)`` (the filter's ``strength``
    argument) with ``blend = |value| / |strength|``: the change grows linearly with the slider, and past the
    filter's own strength it extrapolates (4/3 of the edit at ±3 for the bundled filters; what that costs in
    fidelity and buys in change: BENCHMARKS.md, "Strength").

    Args:
        value: the slider, in standard deviations (its sign picks the filter, not the blend).
        strength: the filter's own strength, non-zero.

    Returns:
        The blend, ``>= 0`` (at most the filters' largest strength, 3).
    """
    from distill.filter import MAX_STRENGTH

    return float(min(abs(value) / abs(strength), MAX_STRENGTH))


def plan_instant_edit(
    filter_edits: Mapping[str, Tuple[str, float]],
    sliders: Mapping[str, float],
) -> Tuple[List[Tuple[str, float]], List[str]]:
    """Which filters an instant edit runs, and how strongly.

    For each non-zero slider the filter for that attribute and sign is used, blended by
    :func:`instant_blend`.

    Args:
        filter_edits: filter name -> (attribute, signed strength it applies), as ``FaceEditor.filter_edits``.
        sliders: attribute -> requested strength.

    Returns:
        ``[(filter name, blend)]`` in slider order, and the moved attributes no filter can serve.
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
        plan.append((name, instant_blend(value, strength)))
    return plan, missing


def instant_note(filter_edits: Mapping[str, Tuple[str, float]], plan: Sequence[Tuple[str, float]]) -> str:
    """The caption under the instant result: what the slider does there, for the filters that ran.

    Args:
        filter_edits: filter name -> (attribute, signed strength), as ``FaceEditor.filter_edits``.
        plan: ``[(filter name, blend)]`` from :func:`plan_instant_edit`.

    Returns:
        A sentence such as "Instant mode applies a filter's edit in proportion to the slider: `older` at 44 %
        (a slider at v applies |v| / 2.25 of it; past ±2.25 it extrapolates)."
    """
    parts = []
    for name, blend in plan:
        strength = abs(filter_edits[name][1])
        parts.append(f"`{name}` at {blend:.0%} (a slider at v applies |v| / {strength:g} of it; past ±{strength:g} "
                     f"it extrapolates)")
    return "Instant mode applies a filter's edit in proportion to the slider: " + "; ".join(parts) + "."


def slider_help(attribute: str, filter_edits: Mapping[str, Tuple[str, float]]) -> str:
    """The help text of an attribute's slider: its unit, and what instant mode can do with it.

    Args:
        attribute: the slider's attribute.
        filter_edits: filter name -> (attribute, signed strength), as ``FaceEditor.filter_edits``.

    Returns:
        A sentence or two for the slider's tooltip.
    """
    text = f"{attribute} strength in standard deviations (exact mode)."
    filters = sorted((name, strength) for name, (attr, strength) in filter_edits.items() if attr == attribute)
    if not filters:
        return text + f" Instant mode has no filter for {attribute}: only exact mode edits it."
    names = " / ".join(f"{name} ({strength:+g})" for name, strength in filters)
    strength = abs(filters[0][1])
    return (text + f" Instant mode applies the filter's edit ({names}) in proportion: |v| / {strength:g} of it, "
            f"extrapolated past ±{strength:g}.")


def faces_message(count: int, index: int) -> str:
    """What the page says when a photo has several faces.

    Args:
        count: faces found.
        index: the face being edited (0 = largest).

    Returns:
        A sentence naming both and where to pick another face.
    """
    return (f"{count} faces found; editing face {index} (0 is the largest). Pick another in the sidebar, or upload "
            f"a photo with one face.")


def user_message(exc: BaseException) -> str:
    """What to tell a person about a failure.

    Args:
        exc: what was raised.

    Returns:
        The library's own message for expected problems (bad image, no face, missing model); for anything else
        a plain sentence (the traceback goes to the server log, never to the page).
    """
    from faceedit.errors import FaceEditError

    if isinstance(exc, FaceEditError):
        return str(exc)
    if isinstance(exc, (IndexError, KeyError, ValueError)):
        return str(exc.args[0]) if exc.args else type(exc).__name__
    log.error("unexpected error in the app", exc_info=exc)
    return (f"Something went wrong ({type(exc).__name__}). Nothing you uploaded was stored; try another photo, "
            f"and if it keeps happening please report it with the server log.")


def outline_face(photo: np.ndarray, quad: np.ndarray, width: Optional[int] = None) -> np.ndarray:
    """The photo with the aligned crop's square drawn on it (to show which face is being edited).

    Args:
        photo: ``uint8 [H, W, 3]``; not changed.
        quad: the crop's four corners in the photo, ``[4, 2]`` (x, y).
        width: line width in pixels (default: scaled to the photo).

    Returns:
        A copy of the photo with the square drawn in yellow.
    """
    from PIL import Image, ImageDraw

    image = Image.fromarray(photo)
    width = width or max(2, int(round(max(photo.shape[:2]) / 200)))
    corners = [tuple(float(v) for v in p) for p in np.asarray(quad)]
    ImageDraw.Draw(image).line(corners + corners[:1], fill=(255, 214, 0), width=width)
    return np.asarray(image)


def instant_result(editor, located, sliders: Dict[str, float]):
    """The instant edit: :func:`plan_instant_edit`'s filters one after another on the located face, pasted
    back once.

    Args:
        editor: a ``FaceEditor`` (only read).
        located: a ``LocatedFace`` (or a sampled ``EncodedFace``).
        sliders: attribute -> strength.

    Returns:
        ``(EditResult, or None when no moved slider has a filter; the plan; attributes without a filter)``.
    """
    plan, missing = plan_instant_edit(editor.filter_edits, sliders)
    return (editor.apply_filters(located, plan) if plan else None), plan, missing
