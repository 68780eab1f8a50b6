"""The labelled factors of the synthfaces world, how they are sampled, and what they imply.

Every face is drawn from a dictionary of ``[N]`` float32 tensors: one entry per labelled factor
(:data:`FACTOR_NAMES`) plus nuisance parameters whose names start with ``"_"`` (face shape,
colour jitter, hair style...). :func:`sample_factors` draws them with FFHQ-like correlations
built in; :func:`appearance` turns them into the amounts the renderer actually draws (grey
hair, baldness, hair length, wrinkles), which is where the age- and gender-driven
correlations live, so that editing one factor of a face keeps the rest of its identity.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

import torch

__all__ = ["FactorSpec", "FACTORS", "FACTOR_NAMES", "NUISANCE_NAMES", "HAIR_COLORS", "BACKGROUNDS",
           "sample_factors", "appearance", "check_params", "as_integer"]

HAIR_COLORS = ("black", "brown", "blonde", "red")
BACKGROUNDS = ("grey", "blue", "green", "cream", "terracotta", "dark")


@dataclass(frozen=True)
class FactorSpec:
    """One labelled factor: its name, kind and range, and what it changes in the picture.

    Args:
        name: key in the parameter and label dictionaries.
        kind: ``'continuous'``, ``'binary'`` (0 or 1) or ``'categorical'`` (class index, stored as float).
        low: smallest value (0 for categorical).
        high: largest value (``len(classes) - 1`` for categorical).
        classes: class names of a categorical factor, in index order.
        description: what the factor changes in the picture.
    """

    name: str
    kind: str
    low: float
    high: float
    classes: Tuple[str, ...] = ()
    description: str = ""


FACTORS: Tuple[FactorSpec, ...] = (
    FactorSpec("age", "continuous", 0.0, 1.0,
               description="young adult (0) to elderly (1): forehead lines, smile folds, eye bags, jowls, thinner "
                           "lips, greying hair and brows, receding hairline (mostly masculine faces), duller skin"),
    FactorSpec("gender", "continuous", 0.0, 1.0,
               description="presentation, feminine (0) to masculine (1): jaw width and squareness, brow thickness "
                           "and arch, hair length, lip fullness and colour, eyelashes, neck width"),
    FactorSpec("smile", "continuous", 0.0, 1.0,
               description="mouth corners up, mouth wider and open with teeth showing, smile folds, eyes narrowed"),
    FactorSpec("glasses", "binary", 0.0, 1.0, description="frames, bridge, temple arms and tinted lenses"),
    FactorSpec("beard", "continuous", 0.0, 1.0,
               description="0 clean-shaven; low values stubble shadow, high values a full beard and moustache "
                           "in the hair colour"),
    FactorSpec("skin_tone", "continuous", 0.0, 1.0, description="lightest (0) to darkest (1) skin colour"),
    FactorSpec("hair_color", "categorical", 0.0, float(len(HAIR_COLORS) - 1), HAIR_COLORS,
               description="base colour of hair, brows and beard (greying is part of age)"),
    FactorSpec("yaw", "continuous", -1.0, 1.0,
               description="head turned towards the picture's left (-1) or right (+1), about 30 degrees at the ends"),
    FactorSpec("roll", "continuous", -1.0, 1.0,
               description="head tilted anticlockwise (-1) or clockwise (+1) in the picture, about 17 degrees"),
    FactorSpec("light", "continuous", -1.0, 1.0,
               description="key light from the picture's left (-1), front (0) or right (+1): shading of head, "
                           "hair and body, background gradient, glints"),
    FactorSpec("background", "categorical", 0.0, float(len(BACKGROUNDS) - 1), BACKGROUNDS,
               description="background colour class (each with per-image gradient, blob and brightness jitter)"),
)
FACTOR_NAMES: Tuple[str, ...] = tuple(spec.name for spec in FACTORS)

# Nuisance parameters: identity and style that no label describes. Every one is drawn
# uniformly in [-1, 1] (or [0, 1] where it is a threshold), so the renderer maps it to a range.
NUISANCE_NAMES: Tuple[str, ...] = (
    "_head_x", "_head_y", "_head_scale", "_face_width", "_face_height", "_jaw",
    "_eye_spacing", "_eye_size", "_eye_height", "_iris", "_gaze",
    "_brow_thickness", "_brow_height", "_nose_length", "_nose_width", "_mouth_width", "_lip_fullness",
    "_hair_length", "_hair_volume", "_hair_part", "_fringe", "_hair_shade", "_hair_texture",
    "_skin_shade", "_skin_warmth", "_grey_onset", "_bald_onset", "_wrinkle_onset", "_beard_style",
    "_ear_size", "_neck_width", "_clothes_hue", "_clothes_shade", "_neckline",
    "_glasses_shape", "_glasses_frame", "_glasses_size",
    "_bg_shade", "_bg_tint", "_bg_angle", "_bg_gradient", "_bg_blob_x", "_bg_blob_y", "_bg_blob",
)
# Nuisances drawn in [0, 1] (thresholds and fractions); all others are in [-1, 1].
_UNIT_NUISANCES = frozenset({"_iris", "_fringe", "_grey_onset", "_bald_onset", "_wrinkle_onset", "_beard_style",
                             "_clothes_hue", "_glasses_shape", "_glasses_frame", "_hair_texture"})

# P(hair colour | skin tone) at the lightest and darkest skin; linear in between.
_HAIR_PROBS_LIGHT = (0.22, 0.40, 0.26, 0.12)
_HAIR_PROBS_DARK = (0.84, 0.15, 0.01, 0.00)

DeviceLike = Union[str, torch.device, None]


def _smoothstep(edge0: float, edge1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def as_integer(value, name: str, meaning: str) -> int:
    """``value`` as a Python int (numpy integers welcome); ValueError for bools, floats, strings."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer ({meaning}), got {value!r}") from None


def sample_factors(n: int, seed: int = 0, *, generator: Optional[torch.Generator] = None,
                   device: DeviceLike = None) -> Dict[str, torch.Tensor]:
    """Draw the render parameters of ``n`` faces, with the world's correlations built in.

    Sampling happens on the generator's device (the CPU for the seeded default), so a seed gives
    the same faces whichever device the parameters are moved to.

    Args:
        n: number of faces, at least 1.
        seed: seed of a fresh CPU generator; ignored when ``generator`` is given.
        generator: draw from this generator instead (it advances).
        device: where the returned tensors live (default: the generator's device).

    Returns:
        ``{name: float32 tensor [n]}`` for every name in :data:`FACTOR_NAMES` (categorical factors as
        class indices) and every nuisance name in :data:`NUISANCE_NAMES`.

    Raises:
        ValueError: ``n`` is not a positive integer.
    """
    n = as_integer(n, "n", "number of faces")
    if n < 1:
        raise ValueError(f"n must be a positive integer (number of faces), got {n!r}")
    if generator is None:
        generator = torch.Generator(device="cpu")
        generator.manual_seed(as_integer(seed, "seed", "any integer; the same seed gives the same faces"))
    gen_device = generator.device

    def uniform(low: float = 0.0, high: float = 1.0) -> torch.Tensor:  # [n]
        return torch.rand(n, generator=generator, device=gen_device) * (high - low) + low

    def normal() -> torch.Tensor:  # [n]
        return torch.randn(n, generator=generator, device=gen_device)

    age = uniform()
    # Bimodal presentation: two modes near 0.12 and 0.88 with a continuum in between. The masculine
    # mode grows with age (25 % of the youngest, 75 % of the oldest), so age and gender are entangled
    # as they are in FFHQ and a naive age direction drags presentation along.
    mode = torch.where(uniform() < 0.75 - 0.5 * age, -2.0, 2.0)
    gender = torch.sigmoid(mode + 0.8 * normal())
    smile = uniform()
    skin_tone = uniform()

    light_probs = torch.tensor(_HAIR_PROBS_LIGHT, device=gen_device)
    dark_probs = torch.tensor(_HAIR_PROBS_DARK, device=gen_device)
    hair_probs = torch.lerp(light_probs[None, :], dark_probs[None, :], skin_tone[:, None])  # [n, 4]
    hair_cdf = hair_probs.cumsum(dim=1)  # [n, 4]
    hair_color = (uniform()[:, None] > hair_cdf[:, :-1]).sum(dim=1).to(torch.float32)  # [n]

    # Glasses: about 8 % of the young, about 55 % of the oldest.
    glasses_rate = 0.06 + 0.5 * age * age + 0.04 * gender
    glasses = (uniform() < glasses_rate).to(torch.float32)

    # Beards only on masculine faces (none at all below gender 0.6), more often with age.
    masculine = _smoothstep(0.6, 0.8, gender)
    has_beard = uniform() < masculine * (0.3 + 0.35 * age)
    beard = torch.where(has_beard, uniform(0.08, 1.0), torch.zeros_like(age))

    yaw = (0.5 * normal()).clamp(-1.0, 1.0)
    roll = (0.4 * normal()).clamp(-1.0, 1.0)
    light = uniform(-1.0, 1.0)
    background = torch.randint(0, len(BACKGROUNDS), (n,), generator=generator, device=gen_device).to(torch.float32)

    params = {
        "age": age, "gender": gender, "smile": smile, "glasses": glasses, "beard": beard,
        "skin_tone": skin_tone, "hair_color": hair_color, "yaw": yaw, "roll": roll, "light": light,
        "background": background,
    }
    for name in NUISANCE_NAMES:
        params[name] = uniform() if name in _UNIT_NUISANCES else uniform(-1.0, 1.0)
    out_device = torch.device(device) if device is not None else gen_device
    return {name: value.to(device=out_device, dtype=torch.float32) for name, value in params.items()}


def check_params(params: Dict[str, torch.Tensor]) -> int:
    """Check a parameter dictionary before rendering; return the batch size.

    Raises:
        ValueError: a factor or nuisance key is missing, a value is not a 1-D tensor, or sizes or
            devices disagree.
    """
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of tensors as returned by sample_factors, got {type(params).__name__}")
    missing = [name for name in FACTOR_NAMES + NUISANCE_NAMES if name not in params]
    if missing:
        shown = ", ".join(missing[:6]) + (", ..." if len(missing) > 6 else "")
        raise ValueError(f"params lack {len(missing)} key(s): {shown}; start from sample_factors(n) and change "
                         "the factors you want, so that every key is present")
    sizes, devices = set(), set()
    for name in FACTOR_NAMES + NUISANCE_NAMES:
        value = params[name]
        if not isinstance(value, torch.Tensor) or value.ndim != 1:
            raise ValueError(f"params[{name!r}] must be a 1-D tensor [N], got "
                             f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}")
        if not value.is_floating_point():
            raise ValueError(f"params[{name!r}] must be a float tensor, got {value.dtype}; use .float()")
        sizes.add(value.shape[0])
        devices.add(value.device)
    if len(sizes) != 1:
        raise ValueError(f"params disagree on the batch size: {sorted(sizes)}; every tensor must be [N]")
    if len(devices) != 1:
        raise ValueError(f"params live on several devices {sorted(map(str, devices))}; move them with .to(device)")
    n = sizes.pop()
    if n < 1:
        raise ValueError("params hold an empty batch; sample at least one face")
    return n


def appearance(params: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The amounts the renderer draws that depend on several parameters (all ``[N]``, in [0, 1]).

    These carry the age- and gender-driven correlations: greying starts between ages 0.3 and 0.65
    (per-face onset) and is complete 0.35 later; baldness affects masculine faces, starting
    between ages 0.25 and 0.85; hair is long on feminine faces and short on masculine ones.

    Args:
        params: render parameters (see :func:`sample_factors`).

    Returns:
        ``grey`` (hair, brows and beard greying), ``baldness`` (receding hairline, thinning crown),
        ``hair_length`` (0 cropped, 1 past the shoulders), ``wrinkles`` (forehead and smile lines,
        eye bags, jowls), ``masculine`` (smooth step of gender used for masculine-only traits).
    """
    age, gender = params["age"], params["gender"]
    masculine = _smoothstep(0.45, 0.85, gender)  # [N]
    grey = ((age - (0.3 + 0.35 * params["_grey_onset"])) / 0.35).clamp(0.0, 1.0)
    bald_start = 0.25 + 0.6 * params["_bald_onset"]
    baldness = masculine * ((age - bald_start) / 0.4).clamp(0.0, 1.0)
    hair_length = (0.82 - 0.75 * gender + 0.3 * params["_hair_length"]).clamp(0.0, 1.0)
    wrinkles = ((age - 0.25 - 0.2 * params["_wrinkle_onset"]) / 0.55).clamp(0.0, 1.0)
    return {"grey": grey, "baldness": baldness, "hair_length": hair_length, "wrinkles": wrinkles,
            "masculine": masculine}
