"""Calibrating a filter's default strength: as much change on pictures it was not distilled on as its teacher
makes on its own faces.

A filter copies its teacher on the teacher's own faces, but on pictures the generator never made (photos,
fresh renders) it changes less: the teacher itself carries only part of its edit onto such pictures
(BENCHMARKS.md, "the inversion route"), and a faithful copy inherits that. Calibration measures both sides
with one classifier — the teacher's mean change of the filter's attribute on unselected pairs of its own
request (:func:`distill.dataset.unfiltered_pairs`, the like-for-like reference: nobody chose the pictures
either) and the filter's change on the caller's pictures — and finds the strength at which the second is
``target`` times the first::

    from distill.calibrate import calibrate_filter
    calibration = calibrate_filter(older, pictures, classifier, G)   # pictures: [N, 3, R, R] in [-1, 1]
    older.default_strength = calibration.strength                    # older(photo) now applies it
    older.metadata["calibration"] = calibration.to_dict()

Use a classifier that took part in making the filter (the dataset's labeler), not the judge that measures it,
and pictures the measurement does not use: calibration fits a number, and a test set it was fitted on
no longer tests it. ``faceedit filters calibrate`` does all of this for a filter folder.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch

from distill.filter import MAX_STRENGTH, Filter, apply_in_batches

__all__ = ["Calibration", "CALIBRATION_SEED", "calibrate_filter", "calibrate_strength", "filter_change",
           "pictures_from_folder", "teacher_change"]

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")

CALIBRATION_SEED = 600_000  # first seed of calibration's teacher pairs, and its renders' seed: no dataset or
# benchmark uses these (datasets stay below 100,000; benchmarks use 300,000, 818,181 and 900,000)

Classifier = Callable[[torch.Tensor], Dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Calibration:
    """What calibration found, and from what (saved in a calibrated filter's metadata)."""

    strength: float  # the default strength found
    attribute: str  # the attribute measured
    classifier: str  # the classifier that measured it
    target: float  # the fraction of the teacher's change asked for
    teacher_change: float  # the teacher's mean change on its own unselected pairs
    teacher_pairs: int  # how many pairs, seeds from teacher_seed
    teacher_seed: int
    change_at_one: float  # the filter's mean change on the pictures at strength 1
    change: float  # ... and at the strength found
    pictures: int  # how many pictures
    pictures_source: str  # where they came from (e.g. 'synthfaces renders, seed 600000', a folder)

    @property
    def ratio(self) -> float:
        """The filter's change at :attr:`strength` as a fraction of the teacher's."""
        return self.change / self.teacher_change

    def to_dict(self) -> Dict:
        return asdict(self)


def filter_change(flt: Filter, pictures: torch.Tensor, classifier: Classifier, attribute: str,
                  strength: float, before: Optional[torch.Tensor] = None) -> float:
    """The classifier's mean change of ``attribute`` when ``flt`` at ``strength`` edits ``pictures``.

    Args:
        pictures: ``[N, 3, R, R]`` in [-1, 1] at the filter's resolution.
        before: the classifier's ``attribute`` scores of ``pictures`` ``[N]``, when already known.
    """
    if before is None:
        before = classifier(pictures)[attribute]
    return float((classifier(apply_in_batches(flt, pictures, strength))[attribute] - before).mean())


def teacher_change(G, flt: Filter, classifier: Classifier, attribute: str, pairs: int = 512,
                   seed: int = CALIBRATION_SEED, model: Optional[str] = None) -> float:
    """The classifier's mean change of ``attribute`` over ``pairs`` unselected pairs of the request ``flt`` was
    distilled from (its metadata's dataset; anchored requests are drawn as plain ones: the teacher's own faces).

    Args:
        G: the teacher generator (its fingerprint must be the one in the filter's metadata).
        model: the name the teacher's directions are looked up under (default: the filter's teacher).
    """
    from distill.dataset import unfiltered_pairs
    from faceedit.errors import ModelMismatchError

    spec = _distilled_request(flt)
    expected = flt.metadata.get("teacher_fingerprint")
    if expected and expected != G.fingerprint():
        raise ModelMismatchError(f"the filter was distilled from generator {expected[:12]}, not from this one "
                                 f"({G.fingerprint()[:12]}); load its teacher ({flt.metadata.get('teacher')})")
    a, b = unfiltered_pairs(G, {"spec": spec}, model or flt.metadata.get("teacher") or "", pairs, seed,
                            anchor=None)  # [pairs, 3, R, R] each
    return float((classifier(b)[attribute] - classifier(a)[attribute]).mean())


def _distilled_request(flt: Filter) -> Dict:
    """The dataset request a filter was distilled from (its metadata), or a ValueError."""
    spec = flt.metadata.get("dataset")
    if not spec or not spec.get("direction"):
        raise ValueError("the filter's metadata does not say which request it was distilled from (no 'dataset'); "
                         "calibrate a filter trained by `faceedit distill train`")
    return spec


def calibrate_strength(flt: Filter, pictures: torch.Tensor, classifier: Classifier, attribute: str,
                       reference: float, target: float = 1.0, tolerance: float = 0.005,
                       before: Optional[torch.Tensor] = None) -> float:
    """The strength at which ``flt`` changes ``attribute`` on ``pictures`` by ``target * reference``.

    The change grows with the strength (it is the filter's change scaled, clipped at the pixel range), so a
    bisection on [0, MAX_STRENGTH] finds it. Returns the strength rounded to two decimals. ``before``: the
    classifier's ``attribute`` scores of ``pictures`` ``[N]``, when already known.

    Raises:
        ValueError: the filter does not move the attribute the reference's way on these pictures, or cannot
            reach the target below MAX_STRENGTH (the message gives how far it gets).
    """
    if not reference or not math.isfinite(reference):
        raise ValueError(f"the teacher's change of {attribute!r} is {reference!r}; nothing to calibrate against "
                         f"(is this the classifier and attribute the filter was distilled for?)")
    if before is None:
        before = classifier(pictures)[attribute]  # [N], once for every strength

    def ratio(strength: float) -> float:
        return filter_change(flt, pictures, classifier, attribute, strength, before) / reference

    at_one = ratio(1.0)
    if at_one <= 0:
        raise ValueError(f"at strength 1 the filter changes {attribute!r} on these pictures the other way from its "
                         f"teacher ({100 * at_one:.0f} % of the teacher's change); calibration cannot fix that")
    low, high = (0.0, 1.0) if at_one >= target else (1.0, MAX_STRENGTH)
    at_most = ratio(MAX_STRENGTH) if high == MAX_STRENGTH else target
    if at_most < target:
        raise ValueError(f"even at strength {MAX_STRENGTH:g} the filter makes {100 * at_most:.0f} % of its teacher's "
                         f"change of {attribute!r} on these pictures ({100 * at_one:.0f} % at strength 1), less than "
                         f"the {100 * target:.0f} % asked for; ask for a smaller --target")
    while high - low > tolerance:
        middle = (low + high) / 2
        low, high = (middle, high) if ratio(middle) < target else (low, middle)
    return round((low + high) / 2, 2)


def calibrate_filter(flt: Filter, pictures: torch.Tensor, classifier, G, target: float = 1.0,
                     teacher_pairs: int = 512, teacher_seed: int = CALIBRATION_SEED,
                     pictures_source: str = "pictures", attribute: Optional[str] = None,
                     model: Optional[str] = None) -> Calibration:
    """Measure the teacher, then find the filter's strength (:func:`teacher_change`, :func:`calibrate_strength`).

    Args:
        flt: the filter; it is not changed (set ``flt.default_strength`` from the result).
        pictures: ``[N, 3, R, R]`` in [-1, 1]: pictures like those the filter will edit, which the teacher did not
            make (aligned photos, renders).
        classifier: an AttributeClassifier (its ``name`` is recorded).
        G: the filter's teacher generator.
        target: the fraction of the teacher's change to reach (1 = all of it).
        attribute: default: the one the filter's dataset selected on (its target).

    Returns:
        A :class:`Calibration`.
    """
    from distill.dataset import dataset_attribute

    if not 0 < target <= 3:
        raise ValueError(f"target {target!r} is outside (0, 3]: it is a fraction of the teacher's change, 1 = all")
    attribute = attribute or dataset_attribute({"spec": _distilled_request(flt)})
    with torch.no_grad():
        reference = teacher_change(G, flt, classifier, attribute, teacher_pairs, teacher_seed, model)
        before = classifier(pictures)[attribute]  # [N]
        strength = calibrate_strength(flt, pictures, classifier, attribute, reference, target, before=before)
        change_at_one = filter_change(flt, pictures, classifier, attribute, 1.0, before)
        change = filter_change(flt, pictures, classifier, attribute, strength, before)
    return Calibration(strength=strength, attribute=attribute, classifier=getattr(classifier, "name", "?"),
                       target=float(target), teacher_change=reference, teacher_pairs=int(teacher_pairs),
                       teacher_seed=int(teacher_seed), change_at_one=change_at_one, change=change,
                       pictures=len(pictures), pictures_source=pictures_source)


def pictures_from_folder(folder: Union[str, Path], flt: Filter, aligner=None) -> Tuple[torch.Tensor, List[str]]:
    """The pictures in ``folder`` as the filter sees them: ``[N, 3, R, R]`` in [-1, 1], and the files skipped.

    A square picture at the filter's resolution is taken as an aligned crop; any other is a photo whose largest
    face ``aligner`` crops (default: framed like the filter's teacher's faces). Photos without a face, and files
    that are not images, are skipped (their names and why come back).

    Raises:
        ValueError: the folder has no usable picture.
    """
    import numpy as np

    from faceedit.alignment import FaceAligner, load_image
    from faceedit.errors import FaceEditError
    from faceedit.utils.images import tensor_from_images

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; give a folder of aligned crops or photos (or leave "
                                f"--pictures out to calibrate on synthfaces renders)")
    crops, skipped = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES):
        try:
            image = load_image(path)
            if image.shape != (flt.resolution, flt.resolution, 3):
                if aligner is None:
                    aligner = FaceAligner.for_model(flt.metadata.get("teacher") or "", output_size=flt.resolution)
                image = aligner.align(image).image
        except FaceEditError as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        crops.append(np.asarray(image, dtype=np.uint8))
    if not crops:
        raise ValueError(f"no usable picture in {folder} (files ending {', '.join(PICTURE_SUFFIXES)}, each an aligned "
                         f"{flt.resolution}x{flt.resolution} crop or a photo with a face)"
                         + (f"; skipped: {'; '.join(skipped[:3])}" if skipped else ""))
    return tensor_from_images(np.stack(crops)), skipped
