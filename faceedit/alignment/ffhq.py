"""FFHQ alignment, exactly as NVIDIA made the dataset, and the way back into the photo.

:func:`ffhq_quad` and :func:`align_face` follow ``recreate_aligned_images`` of NVIDIA's
``ffhq-dataset/download_ffhq.py`` step by step: an oriented square from the eyes and the mouth,
shrink with antialiasing when the face is much larger than the output, crop with a border, pad by
reflection with a blurred, median-tinted border where the square leaves the photo, then a quad
transform to ``4 x output`` pixels and an antialiased resize. The square's corners in the original
photo are kept, so :func:`paste_back` can warp an edited crop back and blend it in with a soft mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = ["ffhq_quad", "mouth_from_five_points", "align_face", "AlignedFace", "paste_back", "crop_to_photo_matrix",
           "FIVE_POINT_MOUTH_RATIO", "FIVE_POINT_MOUTH_WIDTH"]

# dlib's 5-point model has no mouth. Mouth centre = eye centre + this ratio x (nose bottom - eye centre),
# and mouth width = FIVE_POINT_MOUTH_WIDTH x eye distance, both measured on the mean 68-point face shape
# (OpenFace's template; eyes as the means of corners 36/39 and 42/45, nose bottom 33, mouth corners 48/54).
FIVE_POINT_MOUTH_RATIO = 1.36
FIVE_POINT_MOUTH_WIDTH = 0.91


def mouth_from_five_points(points: np.ndarray) -> np.ndarray:
    """Estimate the mouth corners ``[2, 2]`` (left, right) from dlib's 5 points ``[5, 2]``.

    dlib's 5-point layout: 0-1 one eye's outer and inner corner, 2-3 the other eye's, 4 the bottom of the nose.
    """
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    eye_avg = (eye_a + eye_b) / 2
    mouth_avg = eye_avg + FIVE_POINT_MOUTH_RATIO * (points[4] - eye_avg)
    half = (eye_b - eye_a) * (FIVE_POINT_MOUTH_WIDTH / 2)
    left, right = sorted([mouth_avg - half, mouth_avg + half], key=lambda p: p[0])
    return np.stack([left, right])


def ffhq_quad(
    points: np.ndarray,  # [68, 2] or [5, 2] landmarks in pixels
    scale: float = 1.0,  # crop side relative to FFHQ's (a model framed wider than FFHQ has scale > 1)
    shift: Tuple[float, float] = (0.0, 0.0),  # crop centre offset from FFHQ's, in FFHQ crop sides (right, down)
) -> np.ndarray:
    """FFHQ's oriented crop square ``[4, 2]`` from 68 (or 5) landmarks ``[P, 2]`` in pixels.

    Corners in PIL's QUAD order: top-left, bottom-left, bottom-right, top-right of the output.
    ``scale`` and ``shift`` adapt the square to a generator trained on differently framed faces
    (``synthfaces-64`` frames heads about 1.45 times wider); the defaults give FFHQ exactly.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape == (68, 2):
        eye_left, eye_right = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
        mouth_left, mouth_right = points[48], points[54]
    elif points.shape == (5, 2):
        eyes = sorted([points[0:2].mean(axis=0), points[2:4].mean(axis=0)], key=lambda p: p[0])
        eye_left, eye_right = eyes
        mouth_left, mouth_right = mouth_from_five_points(points)
    else:
        raise ValueError(f"landmarks must be [68, 2] or [5, 2], got shape {points.shape}")
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (mouth_left + mouth_right) * 0.5
    eye_to_mouth = mouth_avg - eye_avg

    # Oriented crop rectangle, as NVIDIA's script.
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    c = c + 2.0 * (shift[0] * x + shift[1] * y)  # x and y are half-sides: one crop side is 2 x
    x, y = x * scale, y * scale
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


@dataclass
class AlignedFace:
    """An aligned crop and where it came from."""

    image: np.ndarray  # uint8 [S, S, 3] aligned crop
    quad: np.ndarray  # [4, 2] the crop's corners in the original photo (top-left, bottom-left, bottom-right, top-right)
    photo_size: tuple  # (width, height) of the original photo
    landmarks: Optional[np.ndarray] = None  # [P, 2] landmarks in the original photo

    @property
    def size(self) -> int:
        return int(self.image.shape[0])


def align_face(
    photo: np.ndarray,  # uint8 [H, W, 3] RGB
    landmarks: np.ndarray,  # [68, 2] or [5, 2] in pixels
    output_size: int = 1024,  # side of the aligned crop (FFHQ: 1024; use the generator's resolution)
    transform_size: Optional[int] = None,  # intermediate size; None = 4 x output_size as FFHQ (4096 -> 1024)
    enable_padding: bool = True,  # reflect-pad with a blurred border where the square leaves the photo
    scale: float = 1.0,  # crop side relative to FFHQ's (see ffhq_quad)
    shift: Tuple[float, float] = (0.0, 0.0),  # crop centre offset in FFHQ crop sides (see ffhq_quad)
) -> AlignedFace:
    """Crop one face exactly like the FFHQ dataset (NVIDIA's ``recreate_aligned_images``).

    The steps are FFHQ's: an oriented square from the eyes and mouth (:func:`ffhq_quad`), shrink the photo
    when the face is much larger than the output, crop with a border, pad by reflection with a blurred edge
    where the square leaves the photo, then one quad transform to ``transform_size`` and a Lanczos resize.

    Args:
        photo: the whole photo, RGB.
        landmarks: dlib's 68 points, or the 5-point model's 5 (the mouth is then estimated).

    Returns:
        :class:`AlignedFace`: ``.image`` ``uint8 [output_size, output_size, 3]`` and ``.quad`` ``[4, 2]``,
        the square's corners in the photo (x, y), which :func:`paste_back` maps the crop back onto.

    Shape:
        ``[H, W, 3]`` -> ``[S, S, 3]``.
    """
    import scipy.ndimage
    from PIL import Image

    transform_size = transform_size or 4 * output_size
    quad = ffhq_quad(landmarks, scale, shift)
    photo_quad = quad.copy()
    qsize = np.hypot(*(quad[3] - quad[0])) * 1.0  # = 2 |x|
    img = Image.fromarray(np.asarray(photo, dtype=np.uint8), "RGB")

    # Shrink.
    shrink = int(np.floor(qsize / output_size * 0.5))
    if shrink > 1:
        rsize = (int(np.rint(float(img.size[0]) / shrink)), int(np.rint(float(img.size[1]) / shrink)))
        img = img.resize(rsize, Image.LANCZOS)
        quad /= shrink
        qsize /= shrink

    # Crop.
    border = max(int(np.rint(qsize * 0.1)), 3)
    crop = (int(np.floor(min(quad[:, 0]))), int(np.floor(min(quad[:, 1]))), int(np.ceil(max(quad[:, 0]))),
            int(np.ceil(max(quad[:, 1]))))
    crop = (max(crop[0] - border, 0), max(crop[1] - border, 0), min(crop[2] + border, img.size[0]),
            min(crop[3] + border, img.size[1]))
    if crop[2] - crop[0] < img.size[0] or crop[3] - crop[1] < img.size[1]:
        img = img.crop(crop)
        quad -= crop[0:2]

    # Pad.
    pad = (int(np.floor(min(quad[:, 0]))), int(np.floor(min(quad[:, 1]))), int(np.ceil(max(quad[:, 0]))),
           int(np.ceil(max(quad[:, 1]))))
    pad = (max(-pad[0] + border, 0), max(-pad[1] + border, 0), max(pad[2] - img.size[0] + border, 0),
           max(pad[3] - img.size[1] + border, 0))
    if enable_padding and max(pad) > border - 4:
        pad = np.maximum(pad, int(np.rint(qsize * 0.3)))
        arr = np.pad(np.float32(img), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), "reflect")
        h, w, _ = arr.shape
        yy, xx, _ = np.ogrid[:h, :w, :1]
        mask = np.maximum(1.0 - np.minimum(np.float32(xx) / pad[0], np.float32(w - 1 - xx) / pad[2]),
                          1.0 - np.minimum(np.float32(yy) / pad[1], np.float32(h - 1 - yy) / pad[3]))
        blur = qsize * 0.02
        arr += (scipy.ndimage.gaussian_filter(arr, [blur, blur, 0]) - arr) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
        arr += (np.median(arr, axis=(0, 1)) - arr) * np.clip(mask, 0.0, 1.0)
        img = Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255)), "RGB")
        quad += pad[:2]

    # Transform.
    img = img.transform((transform_size, transform_size), Image.QUAD, (quad + 0.5).flatten(), Image.BILINEAR)
    if output_size < transform_size:
        img = img.resize((output_size, output_size), Image.LANCZOS)
    return AlignedFace(image=np.asarray(img, dtype=np.uint8), quad=photo_quad,
                       photo_size=(int(photo.shape[1]), int(photo.shape[0])), landmarks=np.asarray(landmarks, float))


def crop_to_photo_matrix(quad: np.ndarray, size: int) -> np.ndarray:
    """Affine ``[2, 3]`` from continuous crop coordinates ``(u, v)`` in ``[0, size]`` to photo pixel coordinates.

    Crop coordinates are continuous (pixel j spans ``[j, j + 1)``); photo coordinates put pixel centres on
    integers, like landmarks, so this is exactly the map :func:`align_face` sampled the crop with.

    FFHQ's quad is a square, so the map is affine: ``p = q0 + u/size (q3 - q0) + v/size (q1 - q0)``.
    """
    q0, q1, q3 = quad[0], quad[1], quad[3]
    return np.array([[(q3 - q0)[0] / size, (q1 - q0)[0] / size, q0[0]],
                     [(q3 - q0)[1] / size, (q1 - q0)[1] / size, q0[1]]])


def paste_back(
    photo: np.ndarray,  # uint8 [H, W, 3] the original photo
    face: AlignedFace,  # where the crop came from
    edited: np.ndarray,  # uint8 [S', S', 3] the edited crop (any size; it is mapped onto face.quad)
    feather: float = 0.1,  # width of the soft edge, as a fraction of the crop side
    mask: Optional[np.ndarray] = None,  # float [S', S'] in [0, 1] where to use the edit; None = feathered square
    reference: Optional[np.ndarray] = None,  # uint8 [S', S', 3] the unedited render; None = paste the crop itself
) -> np.ndarray:
    """Warp an edited crop back onto the photo and blend it in with a soft mask; ``uint8 [H, W, 3]``.

    With ``reference`` (the generator's render of the *unedited* face) only the change ``edited - reference``
    is warped and added to the photo: the photo keeps its own detail and sharpness, which a low-resolution
    generator (or an imperfect inversion) would otherwise replace with its blurrier render.

    Returns:
        A new photo; pixels outside the face's square (and its feathered edge) are the photo's, byte for byte.

    Raises:
        ValueError: the crop is not a square RGB image, or ``reference`` differs from it in shape.

    Shape:
        ``photo [H, W, 3]``, ``edited [S', S', 3]`` -> ``[H, W, 3]``.
    """
    from PIL import Image

    edited = np.asarray(edited, dtype=np.uint8)
    size = edited.shape[0]
    if edited.shape != (size, size, 3):
        raise ValueError(f"the edited crop must be a square uint8 [S, S, 3] image, got shape {edited.shape}")
    if mask is None:
        mask = _feathered_square(size, feather)
    forward = np.vstack([crop_to_photo_matrix(face.quad, size), [0, 0, 1]])
    inverse = np.linalg.inv(forward)[:2]  # photo (x, y) -> crop (u, v); PIL wants the output -> input map
    height, width = photo.shape[:2]
    # PIL hands the map continuous photo coordinates (pixel i spans [i, i+1)) and wants continuous crop
    # coordinates back; the quad is in pixel-centre coordinates (pixel i at i), hence the -0.5.
    shift = inverse @ np.array([-0.5, -0.5, 1.0])
    coeffs = (inverse[0, 0], inverse[0, 1], shift[0], inverse[1, 0], inverse[1, 1], shift[1])
    alpha = Image.fromarray(np.float32(np.clip(mask, 0, 1)), "F").transform((width, height), Image.AFFINE, coeffs,
                                                                            Image.BILINEAR)
    alpha = np.clip(np.asarray(alpha, dtype=np.float32), 0, 1)[:, :, None]  # [H, W, 1], 0 outside the crop
    if reference is not None:
        reference = np.asarray(reference, dtype=np.uint8)
        if reference.shape != edited.shape:
            raise ValueError(f"reference {reference.shape} and edited crop {edited.shape} must have the same shape")
        change = edited.astype(np.float32) - reference.astype(np.float32)  # [S, S, 3]
        warped_change = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(change[:, :, c]), "F").transform(
            (width, height), Image.AFFINE, coeffs, Image.BICUBIC), dtype=np.float32) for c in range(3)], axis=2)
        out = photo.astype(np.float32) + warped_change * alpha  # [H, W, 3]
        return np.uint8(np.clip(np.rint(out), 0, 255))
    warped = np.asarray(Image.fromarray(edited).transform((width, height), Image.AFFINE, coeffs, Image.BICUBIC))
    out = photo.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    return np.uint8(np.clip(np.rint(out), 0, 255))


def _feathered_square(size: int, feather: float) -> np.ndarray:
    """1 inside, falling smoothly to 0 over ``feather * size`` pixels at every edge; ``float32 [S, S]``."""
    ramp = max(feather * size, 1.0)
    coords = np.arange(size, dtype=np.float32) + 0.5
    edge = np.minimum(coords, size - coords) / ramp  # [S] distance to the nearer edge, in ramps
    t = np.clip(np.minimum(edge[:, None], edge[None, :]), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep
