"""Per-image geometry and colours of a face, derived from its render parameters.

Everything here is ``[N]`` arithmetic (cheap); the drawing modules turn it into pixels. Head
units: 1 = half the head height, ``u`` across, ``v`` down (see ``_frame``). Head yaw is drawn by
placing features on a vertical cylinder through the head and rotating it: a feature at angle
``phi`` on radius ``r`` appears at ``u = r sin(phi + psi)``, foreshortened by ``cos(phi + psi)``.
"""

from __future__ import annotations

from typing import Dict

import torch

from faceedit.synthfaces import palette
from faceedit.synthfaces._frame import YAW_RADIANS
from faceedit.synthfaces.factors import appearance

__all__ = ["Layout"]


class Layout:
    """Geometry (head units) and colours (``[N, 3]``) of every face in a batch.

    Args:
        params: render parameters, each ``[N]``.
    """

    def __init__(self, params: Dict[str, torch.Tensor]):
        p = params
        look = appearance(p)
        age, gender, smile = p["age"], p["gender"], p["smile"]
        feminine = 1.0 - gender
        self.age, self.gender, self.feminine, self.smile = age, gender, feminine, smile
        self.light = p["light"]
        self.glasses, self.beard = p["glasses"], p["beard"]
        self.wrinkles = look["wrinkles"]
        self.baldness, self.hair_length, self.grey = look["baldness"], look["hair_length"], look["grey"]

        psi = YAW_RADIANS * p["yaw"]  # [N] head turn in radians
        self.yaw_sin, self.yaw_cos = torch.sin(psi), torch.cos(psi)

        # Head oval: wider and squarer-jawed when masculine, a little longer with age.
        self.half_w = 0.73 + 0.07 * (gender - 0.5) + 0.06 * p["_face_width"]
        self.half_h = 1.0 + 0.05 * p["_face_height"] + 0.03 * age
        self.jaw_square = (0.08 + 0.5 * gender + 0.1 * p["_jaw"]).clamp(0.0, 0.6)
        self.chin_taper = 0.24 - 0.12 * gender + 0.04 * p["_jaw"] - 0.1 * self.wrinkles  # jowls widen the jaw
        self.face_u = 0.07 * self.yaw_sin  # the jaw turns with the face; the skull outline hardly moves

        # Eyes on the face cylinder; the far eye narrows and moves towards the face edge.
        spacing = 0.34 + 0.03 * p["_eye_spacing"]
        eye_phi = torch.asin((spacing / self.half_w).clamp(max=0.95))  # [N]
        self.eye_u = [self.half_w * torch.sin(side * eye_phi + psi) for side in (-1.0, 1.0)]
        self.eye_squash = [torch.cos(side * eye_phi + psi) / torch.cos(eye_phi) for side in (-1.0, 1.0)]
        self.eye_v = 0.035 * p["_eye_height"]
        self.eye_w = 0.15 + 0.015 * p["_eye_size"] + 0.01 * feminine
        self.eye_h = (0.075 + 0.008 * p["_eye_size"]) * (1.0 - 0.35 * smile) * (1.0 - 0.15 * age)
        self.iris_r = 0.062 * (1.0 + 0.05 * p["_eye_size"])
        self.gaze = 0.25 * p["_gaze"]
        self.lashes = feminine * (1.0 - 0.5 * age)

        # Brows: thicker, lower and flatter when masculine.
        self.brow_v = self.eye_v - 0.165 - 0.035 * feminine + 0.02 * p["_brow_height"]
        self.brow_thick = 0.02 + 0.022 * gender + 0.006 * p["_brow_thickness"]
        self.brow_arch = 0.025 + 0.045 * feminine
        self.brow_len = 0.17 + 0.01 * gender

        # Nose: the tip stands out from the cylinder, so it moves most with yaw.
        self.nose_u = (self.half_w + 0.22) * self.yaw_sin
        self.bridge_u = (self.half_w + 0.1) * self.yaw_sin
        self.nose_v = 0.40 + 0.03 * p["_nose_length"] + 0.02 * age
        self.nose_w = (0.1 + 0.012 * p["_nose_width"] + 0.015 * gender) * self.yaw_cos

        # Mouth: wider, curved and open with the smile; thinner lips and drooping corners with age.
        self.mouth_u = (self.half_w + 0.08) * self.yaw_sin
        self.mouth_v = 0.63 + 0.02 * p["_nose_length"] + 0.02 * age
        self.mouth_w = (0.19 + 0.015 * p["_mouth_width"] + 0.07 * smile) * self.yaw_cos
        lips = (1.0 + 0.15 * p["_lip_fullness"]) * (1.0 - 0.35 * age)
        self.lip_upper = (0.03 + 0.018 * feminine) * lips
        self.lip_lower = (0.04 + 0.024 * feminine) * lips
        self.mouth_curve = 0.17 * smile - 0.05 * age * (1.0 - smile)
        self.mouth_open = (smile - 0.4).clamp(min=0.0) * 0.22

        # Ears at the sides of the head cylinder: one hides behind the head as it turns.
        ear_phi = 1.42
        self.ear_u = [self.half_w * 1.02 * torch.sin(side * ear_phi + psi) for side in (-1.0, 1.0)]
        self.ear_v = torch.full_like(age, 0.1)
        self.ear_h = 0.17 * (1.0 + 0.06 * p["_ear_size"]) * (1.0 + 0.08 * age)
        self.ear_w = 0.1 * (1.0 + 0.1 * p["_ear_size"])

        # Hair: length from gender, volume and hairline from style nuisances, recession from baldness.
        self.hair_u = 0.05 * self.yaw_sin
        # One face in five has big hair (volume up to about twice the usual).
        big_hair = (p["_hair_volume"] - 0.6).clamp(min=0.0) * 0.4
        self.hair_volume = (0.08 + 0.05 * p["_hair_volume"] + 0.05 * feminine + big_hair) * (1.0 - self.baldness)
        self.fringe = ((p["_fringe"] - 0.62) * 4.0).clamp(0.0, 1.0) * (1.0 - self.baldness)
        self.hairline_v = -0.62 + 0.3 * self.fringe - 0.75 * self.baldness
        self.hairline_curve = (0.55 - 0.35 * self.fringe) - 0.5 * self.baldness
        self.hair_sides = 0.3 + 1.8 * self.hair_length
        self.hair_part = 0.14 * p["_hair_part"] * (1.0 - self.fringe) * (1.0 - self.baldness)
        self.hair_texture = p["_hair_texture"]

        self.beard_width = 0.45 + 0.65 * p["_beard_style"]  # fraction of the face half-width: goatee .. full
        self.glasses_frame = p["_glasses_frame"]  # 0 thick dark plastic .. 1 thin metal
        self.glasses_size = 1.0 + 0.1 * p["_glasses_size"]
        self.glasses_shape = p["_glasses_shape"]  # 0 squarish .. 1 round

        self.neck_w = 0.29 + 0.08 * gender + 0.02 * p["_neck_width"]
        self.neckline_v = 1.3 + 0.3 * (p["_neckline"] + 1.0) * 0.5

        # Colours.
        self.skin = palette.skin_rgb(p["skin_tone"], p["_skin_shade"], p["_skin_warmth"], age)  # [N, 3]
        self.hair = palette.hair_rgb(p["hair_color"], p["_hair_shade"], self.grey)  # [N, 3]
        self.iris = palette.iris_rgb(p["_iris"], p["skin_tone"])  # [N, 3]
        self.clothes = palette.clothes_rgb(p["_clothes_hue"], p["_clothes_shade"])  # [N, 3]
        lip_red = torch.tensor([0.72, 0.28, 0.3], device=age.device)[None, :]  # [1, 3]
        lip_mix = (0.22 + 0.3 * feminine)[:, None]  # [N, 1]
        self.lips = torch.lerp(self.skin * 0.82, lip_red * (0.45 + 0.55 * self.skin.mean(1, keepdim=True)), lip_mix)
        self.beard_rgb = torch.lerp(self.skin * 0.55, self.hair * 0.85, (self.beard * 2.5).clamp(max=1.0)[:, None])

    def subset(self, index: torch.Tensor) -> "Layout":
        """The same layout restricted to the images ``index`` (a 1-D long tensor).

        Attributes are selected when first read, so drawing a rare feature for a few faces
        costs only the attributes it uses.
        """
        return _LayoutSubset(self, index)  # type: ignore[return-value]


class _LayoutSubset:
    """A :class:`Layout` restricted to some images; selects each attribute on first access."""

    def __init__(self, full: Layout, index: torch.Tensor):
        self._full, self._index = full, index

    def __getattr__(self, name: str):
        value = getattr(self._full, name)
        if isinstance(value, torch.Tensor):
            value = value.index_select(0, self._index)
        elif isinstance(value, list):
            value = [item.index_select(0, self._index) for item in value]
        setattr(self, name, value)  # cached: __getattr__ is not called again for this name
        return value
