"""``load_generator``: one entry point for NVIDIA pickles, saved folders and registered names."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import torch

from faceedit.errors import CheckpointFormatError, ModelNotFoundError
from faceedit.networks.generator import CONFIG_NAME, Generator
from faceedit.utils.device import resolve_device

__all__ = ["load_generator"]


def load_generator(
    source: Union[str, Path],
    *,
    device: Union[str, torch.device, None] = None,
    which: str = "G_ema",
    download: bool = True,
) -> Generator:
    """Load a StyleGAN2 generator, never executing code stored in the file.

    Args:
        source: an NVIDIA network pickle (``.pkl``), a folder written by
            :meth:`Generator.save_pretrained` / ``faceedit convert``, or a registered model name
            (``faceedit models list``), such as the bundled default ``'synthfaces-64'``.
        device: target device; ``None`` or ``'auto'`` picks CUDA when available, else the CPU.
        which: the network to take from an NVIDIA snapshot: ``'G_ema'`` (the one for images) or ``'G'``.
        download: fetch a registered model that is not cached yet (never when ``FACEEDIT_OFFLINE`` is set).

    Returns:
        The generator in eval mode with gradients disabled.

    Raises:
        UnsafeCheckpointError: the file asks to run code.
        CheckpointFormatError: the file is corrupt or not a generator.
        ModelNotFoundError / ModelDownloadError: nothing found under that name or path.

    Example:
        >>> G = load_generator("tests/fixtures/nvidia/sg2_f_skip64_w64.pkl", device="cpu")  # doctest: +SKIP
        >>> img = G(torch.randn(1, G.z_dim), None, truncation_psi=0.7)  # [1, 3, 64, 64]  # doctest: +SKIP
    """
    target = resolve_device(device)
    path = Path(source).expanduser() if isinstance(source, (str, Path)) else None
    if path is not None and path.is_dir():
        if which != "G_ema":
            raise CheckpointFormatError(f"{path} holds one generator; which={which!r} applies to NVIDIA pickles only")
        return Generator.from_pretrained(path, device=target)
    if path is not None and path.is_file():
        return _load_file(path, which, target)
    if isinstance(source, str) and source and "/" not in source and not source.endswith(".pkl"):
        from faceedit.hub import fetch_model, get_model_spec, is_cached

        spec = get_model_spec(source)
        if spec.kind != "generator":
            raise ModelNotFoundError(f"{spec.name} is a {spec.kind} network, not a generator; choose a generator "
                                     f"from `faceedit models list`")
        if spec.bundled:
            if which != "G_ema":
                raise CheckpointFormatError(f"{spec.name} holds one generator; which={which!r} applies to NVIDIA "
                                            f"pickles only")
            return Generator.from_pretrained(fetch_model(spec), device=target)
        if not is_cached(spec) and not download:
            from faceedit.hub import manual_download_instructions

            raise ModelNotFoundError(f"{spec.name} is not downloaded yet; run `faceedit models fetch {spec.name}`.\n"
                                     f"{manual_download_instructions(spec)}")
        return _load_file(fetch_model(spec), which, target)
    raise ModelNotFoundError(f"{source} does not exist; give an NVIDIA .pkl file, a folder with {CONFIG_NAME} "
                             f"(from `faceedit convert`), or a registered model name (`faceedit models list`)")


def _load_file(path: Path, which: str, device: torch.device) -> Generator:
    from faceedit.loading.nvidia_pickle import load_nvidia_generator

    if path.name == CONFIG_NAME:
        return Generator.from_pretrained(path.parent, device=device)
    return load_nvidia_generator(path, which=which, device=device)
