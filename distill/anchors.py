"""Anchored pairs: the teacher's edit carried onto pictures the generator did not make.

A filter trained only on the generator's own pairs learns the generator's look as well as the edit,
and loses much of its effect on real photos (on ``synthfaces-64``: the ``older`` filter kept 78 % of the
teacher's judged age change on GAN samples but 38 % on fresh renders). An *anchored* pair starts from a
picture of the target domain instead: ``A`` is that picture, the encoder finds its latent ``w_A``, and

    B = A + (G(w_A + alpha d) - G(w_A))        # the teacher's change, added to the picture itself

so the filter sees real inputs and learns to add exactly the change the generator makes around their
latents. Anchors come from the ``synthfaces`` procedural world (fresh renders, one per seed) or from a
folder of aligned photos of the generator's framing (seed ``s`` takes file ``s % count`` in name order).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import List, Sequence

import numpy as np
import torch

__all__ = ["SYNTHFACES", "IMAGE_SUFFIXES", "anchor_images", "anchor_fingerprint", "anchor_files"]

SYNTHFACES = "synthfaces"  # anchor name: fresh renders of the procedural world
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
# Render seeds are derived from the pair seed with this tag, so anchors never repeat the renders other tools
# draw from plain seeds (the distillation benchmark's held-out renders, for one).
_RENDER_TAG = 0x616E63686F72  # "anchor"


def anchor_files(folder: Path) -> List[Path]:
    """The images of an anchor folder, in name order."""
    return list(_listing(str(Path(folder).resolve()), Path(folder).stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _listing(folder: str, mtime_ns: int) -> tuple:
    """The folder's images, listed once per folder state (``mtime_ns``: a file added or removed lists it anew),
    not once per batch: a folder of 70,000 photos takes a while to list."""
    files = tuple(sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
    if not files:
        raise ValueError(f"the anchor folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); put aligned "
                         f"face crops there (e.g. from `faceedit invert`'s aligned.png or FFHQ's images)")
    return files


def anchor_fingerprint(anchor: str) -> str:
    """What a dataset records about its anchors, to refuse resuming with other pictures.

    ``synthfaces`` is fully described by its name (the renderer is deterministic by seed); a folder is
    described by its files' names and sizes (cheap to check, enough to notice a changed folder).
    """
    if anchor == SYNTHFACES:
        return SYNTHFACES
    digest = hashlib.sha256()
    for path in anchor_files(Path(anchor)):
        digest.update(f"{path.name}\0{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def _render_seed(seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), _RENDER_TAG]).generate_state(1)[0])


def anchor_images(
    anchor: str,  # "synthfaces", or a folder of aligned face crops
    seeds: Sequence[int],  # pair seeds; each picks its anchor
    resolution: int,  # the generator's resolution; folder images of another size are resized
) -> torch.Tensor:
    """The anchor pictures ``[N, 3, resolution, resolution]`` in [-1, 1], one per seed, deterministic.

    Raises:
        ValueError: the folder holds no images.
        faceedit.InvalidImageError: a file in the folder is not a readable image.
    """
    if anchor == SYNTHFACES:
        from faceedit.synthfaces.factors import sample_factors
        from faceedit.synthfaces.render import render_faces

        draws = [sample_factors(1, _render_seed(s)) for s in seeds]
        params = {key: torch.cat([d[key] for d in draws]) for key in draws[0]}  # {name: [N]}
        return render_faces(params, resolution)
    from PIL import Image

    from faceedit.alignment.io import load_image
    from faceedit.utils.images import tensor_from_images

    files = anchor_files(Path(anchor))
    pictures = []
    for seed in seeds:
        rgb = load_image(files[int(seed) % len(files)])  # uint8 [H, W, 3]
        if rgb.shape[:2] != (resolution, resolution):
            rgb = np.asarray(Image.fromarray(rgb).resize((resolution, resolution), Image.LANCZOS))
        pictures.append(rgb)
    return tensor_from_images(np.stack(pictures))
