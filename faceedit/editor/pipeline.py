""":class:`FaceEditor`: a thin pipeline over a generator, its directions, encoder and filters."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from faceedit.editor.attributes import choose_directions, filter_edit
from faceedit.editor.results import EditResult, EncodedFace, LocatedFace, PhotoEditResult

__all__ = ["FaceEditor", "ProgressCallback"]

ProgressCallback = Callable[[float, str], None]  # (fraction done in [0, 1], what is running)
Image = Union[str, Path, bytes, np.ndarray, object]  # anything faceedit.alignment.load_image reads, or a PIL image
Latent = Union[EncodedFace, torch.Tensor, str, Path]  # a face from encode()/sample(), W/W+ latents, or a latent file


class FaceEditor:
    """Edit faces in photos with one model: align, invert, move along directions, paste back; or filter.

    Example::

        >>> from faceedit import FaceEditor
        >>> editor = FaceEditor.from_pretrained("synthfaces-64")
        >>> editor.attributes[:2]
        ['age', 'gender']
        >>> face = editor.sample(seed=3)                    # a generated face (no photo needed)
        >>> result = editor.edit(face, age=+2)
        >>> result.aligned.shape
        (64, 64, 3)

    With a photo: ``face = editor.encode("photo.jpg")`` (dlib finds and aligns the largest face, then it is
    inverted), ``editor.edit(face, age=1.5, gender=-0.5).photo`` is the whole photo with the edited face.
    """

    def __init__(
        self,
        generator,  # faceedit Generator
        directions: Optional[Mapping[str, object]] = None,  # name -> directions.Direction fitted on `generator`
        encoder=None,  # LatentEncoder for instant inversion; None = projection only
        filters: Optional[Mapping[str, object]] = None,  # name -> distill.Filter distilled from `generator`
        perceptual=None,  # LPIPS-like distance for projection; None = pixel + MS-SSIM losses
        aligner=None,  # FaceAligner framed like the generator's training faces; None = FFHQ framing
        model_name: str = "",  # registered name (for messages and bundled lookups)
        paste_change: bool = True,  # paste only the edit's change into photos (keeps their detail); False = the render
    ):
        self.generator = generator
        self._fingerprint: Optional[str] = None  # the generator's, hashed once on first need
        self.directions: Dict[str, object] = dict(directions or {})
        for direction in self.directions.values():
            direction.check_generator(generator, self.fingerprint)
        if encoder is not None:
            encoder.check_generator(generator, self.fingerprint)
        self.encoder = encoder
        self.filters: Dict[str, object] = dict(filters or {})
        self.perceptual = perceptual
        self._aligner = aligner
        self.model_name = model_name
        self.paste_change = paste_change
        self._attribute_directions = choose_directions(self.directions)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pretrained(
        cls,
        model: Union[str, Path] = "synthfaces-64",  # registered name, NVIDIA .pkl or saved folder
        device: Union[str, torch.device, None] = "auto",  # 'auto' = the best available
        download: bool = False,  # fetch a registered model that is not cached yet
        use_lpips: bool = True,  # use LPIPS for projection when its weights are cached
        directions: Union[str, Path, None] = None,  # folder of directions fitted on this model (`faceedit directions
        # fit --out DIR`: NAME.json + NAME.safetensors), added to the bundled ones (same name: yours); None = bundled
        filters: Union[str, Path, None] = None,  # folder of filter folders (`faceedit distill train --out DIR/NAME`),
        # added to the bundled ones (same name: yours); None = bundled only
    ) -> "FaceEditor":
        """The generator plus every direction, encoder and filter bundled for it (and your own, if given).

        Args:
            model: the generator: a registered name (``faceedit models list``), an NVIDIA ``.pkl`` or a folder.
            directions: a folder of your directions for this generator, e.g. fitted for a fetched FFHQ model.
            filters: a folder holding one sub-folder per filter.

        Returns:
            A ready editor; ``editor.attributes`` lists what it can edit.

        Raises:
            ModelNotFoundError: the model is neither bundled, cached, nor a file (the message says how to get it),
                or ``directions``/``filters`` is not a folder.
            ModelMismatchError: a direction in ``directions`` was fitted on another generator.

        Example::

            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> sorted(editor.filters)
            ['feminine', 'masculine', 'older', 'younger']
        """
        from directions.bundled import bundled_directions, load_bundled_direction
        from directions.io import load_direction
        from distill.filter import Filter, bundled_filters
        from faceedit.inversion.api import load_encoder_for
        from faceedit.inversion.lpips import load_lpips
        from faceedit.loading.api import load_generator

        G = load_generator(model, device=device, download=download)
        name = Path(str(model)).name
        found = {n: load_bundled_direction(name, n) for n in bundled_directions(name)}  # checked by __init__
        found.update({p.stem: load_direction(p.with_suffix("")) for p in _user_folder(directions, "directions")
                      .glob("*.json")} if directions is not None else {})
        flts = {n: Filter.load(n, model=name, device=G.device) for n in bundled_filters(name)}
        flts.update({p.parent.name: Filter.load(p.parent, device=G.device)
                     for p in _user_folder(filters, "filters").glob("*/config.json")} if filters is not None else {})
        encoder = load_encoder_for(name, device=G.device)
        perceptual = load_lpips(device=G.device) if use_lpips else None
        return cls(G, directions=found, encoder=encoder, filters=flts, perceptual=perceptual,
                   model_name=name)

    # ------------------------------------------------------------------ what it can do

    @property
    def fingerprint(self) -> str:
        """``generator.fingerprint()``, computed once (the editor does not change the generator's weights)."""
        if self._fingerprint is None:
            self._fingerprint = self.generator.fingerprint()
        return self._fingerprint

    @property
    def resolution(self) -> int:
        return int(self.generator.img_resolution)

    @property
    def attributes(self) -> List[str]:
        """Attributes this model can edit (each has a direction): age and gender first."""
        return list(self._attribute_directions)

    @property
    def attribute_directions(self) -> Dict[str, str]:
        """``{attribute: direction name}`` that :meth:`edit` uses for each attribute."""
        return dict(self._attribute_directions)

    def direction_for(self, attribute: str):
        """The direction an attribute's edits use (conditional when there is one), or the direction by name."""
        if attribute in self._attribute_directions:
            return self.directions[self._attribute_directions[attribute]]
        if attribute in self.directions:
            return self.directions[attribute]
        have = ", ".join(self.attributes + sorted(self.directions)) or "none"
        raise KeyError(f"{self.model_name or 'this model'} has no direction for {attribute!r} (it has: {have}); "
                       f"fit one with `faceedit directions fit` and pass it in directions=")

    def add_direction(self, direction, name: Optional[str] = None) -> None:
        """Make a direction fitted on this generator available to :meth:`edit` by ``name`` (default: its
        attribute). The attributes' preferred directions stay as they are.

        Raises:
            ModelMismatchError: the direction was fitted on another generator.
        """
        direction.check_generator(self.generator, self.fingerprint)
        self.directions[name or direction.attribute] = direction

    @property
    def filter_edits(self) -> Dict[str, Tuple[str, float]]:
        """``{filter name: (attribute, strength)}`` for the filters this editor has."""
        return {name: filter_edit(f.metadata, self.directions) for name, f in self.filters.items()}

    @property
    def aligner(self):
        """The FaceAligner (dlib) used for photos; made on first use."""
        if self._aligner is None:
            from faceedit.alignment import FaceAligner

            self._aligner = FaceAligner.for_model(self.model_name, output_size=self.resolution)
        return self._aligner

    # ------------------------------------------------------------------ faces in, latents out

    def locate(self, image: Image, face: int = 0, aligned: bool = False) -> LocatedFace:
        """Find and align one face of a photo (``face`` = 0 is the largest).

        ``aligned=True`` takes the image as an already aligned crop (resized to the model's resolution).

        Raises:
            InvalidImageError: not a usable image. NoFaceFoundError: no face. FaceIndexError: fewer faces than
            asked (also an IndexError).
        """
        faces = self.locate_all(image, aligned=aligned)
        if not 0 <= face < len(faces):
            from faceedit.errors import FaceIndexError

            raise FaceIndexError(f"face {face} asked for, but the photo has {len(faces)} face(s), numbered 0 (largest) "
                                 f"to {len(faces) - 1}; pass --face/face= in that range, or all faces (--all-faces, "
                                 f"encode_all)")
        return faces[face]

    def locate_all(self, image: Image, aligned: bool = False) -> List[LocatedFace]:
        """Every face of a photo, aligned, largest first (one detection pass for all of them).

        Raises:
            InvalidImageError: not a usable image. NoFaceFoundError: no face.
        """
        from faceedit.alignment import load_image

        photo = load_image(image)
        if aligned:
            return [LocatedFace(photo=photo, aligned=_resize(photo, self.resolution), face=None, faces_found=1)]
        faces = self.aligner.align_all(photo)
        return [LocatedFace(photo=photo, aligned=f.image, face=f, faces_found=len(faces)) for f in faces]

    def encode(
        self,
        image: Union[Image, LocatedFace],  # a photo, or a face from locate()
        method: Optional[str] = None,  # 'encoder' (instant), 'w', 'w+', 'encoder+w+', 'pti'; None = best available
        steps: int = 300,  # projection steps
        pti_steps: int = 300,  # pivotal-tuning steps ('pti')
        face: int = 0,  # which face of a photo, largest first
        aligned: bool = False,  # the image is already an aligned crop
        seed: int = 0,
        progress: Optional[ProgressCallback] = None,  # called with (fraction, message) as it runs
        frame_every: Optional[int] = None,  # keep a projection video frame every this many steps (extra['frames'])
    ) -> EncodedFace:
        """Align a face and find its latent.

        ``method=None`` uses ``'encoder+w+'`` when the model has an encoder, else ``'w+'``.

        Returns:
            The face: ``.aligned`` crop, ``.reconstruction``, ``.latent`` ``[1, num_ws, w_dim]``, ``.photo``.

        Raises:
            InvalidImageError, NoFaceFoundError, FaceIndexError: see :meth:`locate`.

        Example (the encoder alone is instant; the default projection takes seconds)::

            >>> from skimage.data import astronaut
            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> face = editor.encode(astronaut(), method="encoder")
            >>> face.aligned.shape, face.photo.shape, tuple(face.latent.shape)
            ((64, 64, 3), (512, 512, 3), (1, 10, 128))
        """
        from faceedit.inversion.api import invert
        from faceedit.utils.images import images_from_tensor, tensor_from_images

        report = progress or (lambda fraction, message: None)
        report(0.0, "finding the face")
        located = image if isinstance(image, LocatedFace) else self.locate(image, face=face, aligned=aligned)
        method = method or ("encoder+w+" if self.encoder is not None else "w+")
        total = {"encoder": 1, "pti": steps + pti_steps}.get(method, steps)

        def on_step(stage: str, step: int, stage_steps: int) -> None:
            done = step + (steps if stage == "tuning" else 0)
            report(min(done / max(total, 1), 1.0), f"{stage} {step}/{stage_steps}")

        report(0.0, f"inverting ({method})")
        inversion = invert(self.generator, tensor_from_images(located.aligned), method=method, encoder=self.encoder,
                           steps=steps, pti_steps=pti_steps, seed=seed, perceptual=self.perceptual, progress=False,
                           callback=on_step, frame_every=frame_every, fingerprint=self.fingerprint)
        reconstruction = images_from_tensor(inversion.synthesis(self.generator))[0]
        report(1.0, f"inverted in {inversion.seconds:.1f} s")
        return EncodedFace(photo=located.photo, aligned=located.aligned, face=located.face,
                           faces_found=located.faces_found, inversion=inversion, reconstruction=reconstruction)

    def encode_all(
        self,
        image: Image,  # a photo
        method: Optional[str] = None,  # as in encode()
        steps: int = 300,  # projection steps, per face
        pti_steps: int = 300,  # pivotal-tuning steps ('pti'), per face
        seed: int = 0,
        progress: Optional[ProgressCallback] = None,  # (fraction of all faces, message)
        frame_every: Optional[int] = None,  # keep projection video frames (as in encode())
    ) -> List[EncodedFace]:
        """Every face of a photo, aligned and inverted, largest first (one detection pass).

        Returns:
            One :class:`EncodedFace` per face; :meth:`edit_all` edits them and pastes them all back.

        Raises:
            InvalidImageError: not a usable image. NoFaceFoundError: no face.

        Example::

            >>> from skimage.data import astronaut
            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> faces = editor.encode_all(astronaut(), method="encoder")
            >>> len(faces), faces[0].faces_found      # dlib also takes a pattern on her suit for a face
            (2, 2)
        """
        located = self.locate_all(image)
        faces = []
        for index, one in enumerate(located):
            report = None
            if progress is not None:
                def report(fraction, message, index=index):
                    progress((index + fraction) / len(located), f"face {index + 1}/{len(located)}: {message}")
            faces.append(self.encode(one, method=method, steps=steps, pti_steps=pti_steps, seed=seed,
                                     progress=report, frame_every=frame_every))
        return faces

    def from_latent(self, latent: Union[torch.Tensor, str, Path]) -> EncodedFace:
        """A face from a latent alone: W ``[w_dim]`` / ``[1, w_dim]``, W+ ``[num_ws, w_dim]`` / ``[1, num_ws,
        w_dim]``, or a latent file written by ``faceedit invert`` (its noise and PTI delta too).

        There is no photo: the render is the photo, and :meth:`edit` returns edited renders.

        Raises:
            ValueError: the tensor's shape does not fit this generator.
            ModelMismatchError: the latent file was inverted with another generator.

        Example::

            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> w = editor.generator.mapping.w_avg            # the average face, [w_dim]
            >>> editor.edit(w, age=+2).aligned.shape
            (64, 64, 3)
        """
        from faceedit.inversion.api import Inversion, load_inversion

        G = self.generator
        if isinstance(latent, (str, Path)):
            inversion = load_inversion(latent, G)
        else:
            ws = torch.as_tensor(latent).detach().float().to(G.device)
            if ws.ndim == 1:
                ws = ws[None]  # [1, w_dim]
            if ws.ndim == 2 and ws.shape[0] == 1:
                ws = ws[:, None].expand(-1, G.num_ws, -1)  # W: one w for every layer
            elif ws.ndim == 2:
                ws = ws[None]  # [1, num_ws, w_dim]
            if tuple(ws.shape) != (1, G.num_ws, G.w_dim):
                raise ValueError(f"latent of shape {tuple(torch.as_tensor(latent).shape)} does not fit this generator: "
                                 f"pass W [{G.w_dim}] or W+ [{G.num_ws}, {G.w_dim}] (optionally with a batch of 1)")
            inversion = Inversion(ws=ws.contiguous(), noise={}, method="latent", seconds=0.0)
        return self._rendered(inversion)

    def _rendered(self, inversion) -> EncodedFace:
        """A face that is its own render (no photo): sampled faces and bare latents."""
        from faceedit.utils.images import images_from_tensor

        image = images_from_tensor(inversion.synthesis(self.generator))[0]
        return EncodedFace(photo=image, aligned=image, face=None, inversion=inversion, reconstruction=image)

    def sample(self, seed: int = 0, truncation_psi: float = 0.7) -> EncodedFace:
        """A generated face (``seed`` as in NVIDIA's generate.py) as if it had been encoded: exact, instant."""
        from faceedit.inversion.api import Inversion
        from faceedit.utils.seeds import z_from_seeds

        G = self.generator
        z = z_from_seeds([seed], G.z_dim).to(G.device)
        with torch.no_grad():
            ws = G.mapping(z, None, truncation_psi=truncation_psi)  # [1, num_ws, w_dim]
        return self._rendered(Inversion(ws=ws, noise={}, method="sample", seconds=0.0,
                                        extra={"seed": seed, "truncation_psi": truncation_psi}))

    # ------------------------------------------------------------------ edits

    def edit(
        self,
        face: Latent,  # from encode()/sample(), or a latent tensor or file (see from_latent())
        edits: Optional[Mapping[str, float]] = None,  # attribute or direction name -> strength (any name)
        **strengths: float,  # attribute -> strength in standard deviations, e.g. age=+1.5, gender=-0.5
    ) -> EditResult:
        """Move the face's latent along directions and render it; the photo gets the edited face pasted back.

        Strength is in standard deviations of the attribute's boundary distance over sampled faces: +1 is a
        clear, natural change, +3 a strong one. Zero strengths are skipped.

        Returns:
            The edited crop (``.aligned``), the whole photo with it pasted back (``.photo``), the unedited
            render (``.before``) and the edited latent (``.latent``, ``[1, num_ws, w_dim]``).

        Raises:
            KeyError: a name that is neither an attribute nor a direction of this editor.

        Example::

            >>> from skimage.data import astronaut
            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> face = editor.encode(astronaut(), method="encoder")
            >>> result = editor.edit(face, age=+1.5, gender=-0.5)
            >>> result.photo.shape, sorted(result.edits)
            ((512, 512, 3), ['age-orth-gender', 'gender-orth-age-skin_tone-background'])
        """
        from directions.edit import apply_direction
        from faceedit.utils.images import images_from_tensor

        if not isinstance(face, EncodedFace):
            face = self.from_latent(face)
        requested = {**dict(edits or {}), **strengths}
        ws = face.latent
        applied: Dict[str, float] = {}
        for key, strength in requested.items():
            if not strength:
                continue
            direction = self.direction_for(key)
            ws = apply_direction(ws, direction.vector, float(strength), direction.layers, direction.unit)
            name = self._attribute_directions.get(key, key)
            applied[name] = applied.get(name, 0.0) + float(strength)
        crop = face.reconstruction
        if applied:
            crop = images_from_tensor(face.inversion.synthesis(self.generator, ws))[0]
        photo = face.paste(crop, reference=face.reconstruction if self.paste_change else None)
        return EditResult(aligned=crop, photo=photo, before=face.reconstruction, edits=applied, latent=ws)

    def edit_all(
        self,
        faces: Sequence[EncodedFace],  # from encode_all(): faces of one photo
        edits: Optional[Mapping[str, float]] = None,  # as in edit()
        **strengths: float,  # as in edit()
    ) -> PhotoEditResult:
        """The same edit on every face of a photo; the faces are pasted back one after another.

        Raises:
            ValueError: no faces, or faces of different photos.

        Example::

            >>> from skimage.data import astronaut
            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> edited = editor.edit_all(editor.encode_all(astronaut(), method="encoder"), age=+2)
            >>> edited.photo.shape, len(edited.faces)
            ((512, 512, 3), 2)
        """
        if not faces:
            raise ValueError("no faces to edit: encode_all() found none in the photo")
        photo = faces[0].photo
        if any(f.photo is not photo and not np.array_equal(f.photo, photo) for f in faces[1:]):
            raise ValueError("edit_all() takes the faces of one photo (from one encode_all() call)")
        results = [self.edit(face, edits, **strengths) for face in faces]
        for face, result in zip(faces, results):
            photo = face.paste(result.aligned, reference=face.reconstruction if self.paste_change else None,
                               onto=photo)
        return PhotoEditResult(photo=photo, faces=results)

    def apply_filter(
        self,
        image: Union[Image, LocatedFace],  # a photo, or a face from locate()/encode()/sample()
        name: str,  # a filter of this editor (see .filters / .filter_edits)
        strength: Optional[float] = None,  # 1 = the filter's distilled edit, 0 = none, in between blends; up to 3
        #   extrapolates; None = the filter's default strength (1 unless calibrated)
        face: int = 0,  # which face of a photo, largest first
        aligned: bool = False,  # the image is already an aligned crop
    ) -> EditResult:
        """The instant path: one forward pass of a distilled filter on the aligned face, pasted back.

        Returns:
            The filtered crop (``.aligned``), the photo with it pasted back (``.photo``), the input crop
            (``.before``); ``.latent`` is None (no inversion).

        Raises:
            KeyError: no such filter (the message lists this editor's). ValueError: strength outside [0, 3].

        Example::

            >>> from skimage.data import astronaut
            >>> editor = FaceEditor.from_pretrained("synthfaces-64")
            >>> older = editor.apply_filter(astronaut(), "older")
            >>> older.photo.shape, older.aligned.shape
            ((512, 512, 3), (64, 64, 3))
        """
        return self.apply_filters(image, [(name, strength)], face=face, aligned=aligned)

    def apply_filters(
        self,
        image: Union[Image, LocatedFace],  # a photo, or a face from locate()/encode()/sample()
        filters: Sequence[Tuple[str, Optional[float]]],  # (filter name, strength in [0, 3] or None for the
        #   filter's default) applied in this order
        face: int = 0,  # which face of a photo, largest first
        aligned: bool = False,  # the image is already an aligned crop
    ) -> EditResult:
        """Several filters one after another on the aligned crop (e.g. older, then more masculine); the result
        is pasted into the photo once."""
        located = image if isinstance(image, LocatedFace) else self.locate(image, face=face, aligned=aligned)
        crop, applied = located.aligned, {}
        for name, strength in filters:
            flt = self._filter(name)
            strength = flt.default_strength if strength is None else strength
            crop = _resize(flt.apply_crop(_resize(crop, flt.resolution), strength=strength), crop.shape[0])
            applied[name] = float(strength)
        photo = located.paste(crop, reference=located.aligned if self.paste_change else None)
        return EditResult(aligned=crop, photo=photo, before=located.aligned, edits=applied)

    def _filter(self, name: str):
        """This editor's filter ``name``, or a KeyError that lists the ones it has."""
        if name not in self.filters:
            have = ", ".join(sorted(self.filters)) or "none"
            raise KeyError(f"no filter {name!r} for {self.model_name or 'this model'} (it has: {have}); train one with "
                           f"`faceedit distill train`")
        return self.filters[name]


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """A square crop at ``size`` (Lanczos); non-square images are centre-cropped first."""
    from PIL import Image as PILImage

    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = PILImage.fromarray(np.ascontiguousarray(image[top:top + side, left:left + side]))
    return np.asarray(square.resize((size, size), PILImage.LANCZOS), dtype=np.uint8)


def _user_folder(folder: Union[str, Path], what: str) -> Path:
    """``folder`` as a Path, refused with a clear message when it is not a folder."""
    from faceedit.errors import ModelNotFoundError

    path = Path(folder)
    if not path.is_dir():
        wrote = "faceedit directions fit --out DIR" if what == "directions" else "faceedit distill train --out DIR/NAME"
        raise ModelNotFoundError(f"{what}={folder}: no such folder; pass the folder you wrote with `{wrote}`")
    return path
