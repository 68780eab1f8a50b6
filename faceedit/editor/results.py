"""What :class:`~faceedit.editor.FaceEditor` hands back: a located face, its latent, an edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch

__all__ = ["LocatedFace", "EncodedFace", "EditResult", "PhotoEditResult"]


@dataclass
class LocatedFace:
    """A photo and the aligned crop of one of its faces."""

    photo: np.ndarray  # uint8 [H, W, 3] the whole photo
    aligned: np.ndarray  # uint8 [R, R, 3] the face, cropped as the generator's training faces were
    face: Optional[object] = None  # AlignedFace: where the crop lies in the photo; None = the photo is the crop
    faces_found: int = 1  # faces detected in the photo (the crop is one of them)

    def paste(
        self,
        crop: np.ndarray,  # uint8 [R, R, 3] the edited crop
        reference: Optional[np.ndarray] = None,  # uint8 [R, R, 3] the unedited render; None = paste the crop itself
        onto: Optional[np.ndarray] = None,  # uint8 [H, W, 3] the photo to paste into; None = this face's photo
    ) -> np.ndarray:
        """An edited crop put back in the photo: ``uint8 [H, W, 3]``.

        With ``reference`` (the unedited render) only the change is added to the photo (see
        :func:`~faceedit.alignment.paste_back`). ``onto`` lets several faces of one photo be pasted in turn. A
        photo that is itself the crop (a sampled face) is replaced.
        """
        from faceedit.alignment.ffhq import paste_back

        if self.face is None:
            return np.asarray(crop, dtype=np.uint8)
        return paste_back(self.photo if onto is None else onto, self.face, crop, reference=reference)


@dataclass
class EncodedFace(LocatedFace):
    """A located face and its latent, ready to edit."""

    inversion: Optional[object] = None  # faceedit.inversion.Inversion: ws, noise, PTI delta, method, seconds
    reconstruction: Optional[np.ndarray] = None  # uint8 [R, R, 3] what the latent renders, unedited

    @property
    def latent(self) -> torch.Tensor:
        """``[1, num_ws, w_dim]`` the face's W+ latent."""
        return self.inversion.ws


@dataclass
class EditResult:
    """One edit of one face."""

    aligned: np.ndarray  # uint8 [R, R, 3] the edited crop
    photo: np.ndarray  # uint8 [H, W, 3] the whole photo with the edited face pasted back
    before: np.ndarray  # uint8 [R, R, 3] the same crop unedited (the reconstruction, or the aligned input)
    edits: Dict[str, float] = field(default_factory=dict)  # direction or filter name -> strength applied
    latent: Optional[torch.Tensor] = None  # [1, num_ws, w_dim] edited latent; None for a filter edit


@dataclass
class PhotoEditResult:
    """Every face of one photo edited and pasted back (:meth:`FaceEditor.edit_all`)."""

    photo: np.ndarray  # uint8 [H, W, 3] the whole photo with every edited face pasted back
    faces: List[EditResult] = field(default_factory=list)  # one per face, largest first (each .photo: that face alone)
