"""Example "photos" of the synthfaces world: portraits rendered at 256 px with a known person in them.

They have the background and framing of a portrait, so dlib finds and aligns them like any photo; the app
offers them, the demo edits them, and the tests check each label against the render's ground truth.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["EXAMPLES", "ASTRONAUT", "example_photo"]

# (label, renderer seed); each label states the render's ground-truth factors (a test checks them).
EXAMPLES: Tuple[Tuple[str, int], ...] = (("young woman", 3), ("young woman, red hair", 13), ("woman with glasses", 23),
                                         ("older woman", 34), ("young man", 29), ("older man with beard", 26))
ASTRONAUT = "astronaut (scikit-image)"  # a real photo, when scikit-image is installed


def example_photo(label: str, size: int = 256) -> np.ndarray:
    """``uint8 [size, size, 3]`` the example called ``label`` (see :data:`EXAMPLES`), or :data:`ASTRONAUT`."""
    if label == ASTRONAUT:
        from skimage import data

        return data.astronaut()
    from faceedit.synthfaces.render import render_batch
    from faceedit.utils.images import images_from_tensor

    seeds = dict(EXAMPLES)
    if label not in seeds:
        raise KeyError(f"no example {label!r}; the examples are: {', '.join(seeds)}, {ASTRONAUT}")
    return images_from_tensor(render_batch(1, seed=seeds[label], resolution=size)[0])[0]
