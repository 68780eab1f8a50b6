"""The StyleGAN2 generator: mapping network + synthesis network, with its own file format.

A saved generator is a folder with ``config.json`` (the construction arguments and a hash of
the weights) and ``model.safetensors`` (the state dict, names identical to NVIDIA's).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from faceedit.errors import CheckpointFormatError
from faceedit.networks.mapping import MappingNetwork
from faceedit.networks.synthesis import SynthesisNetwork
from faceedit.utils.model_folder import CONFIG_NAME, WEIGHTS_NAME, read_model_folder, write_model_folder

__all__ = ["Generator", "CONFIG_NAME", "WEIGHTS_NAME", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "faceedit-stylegan2-generator"
FORMAT_VERSION = 1


class Generator(torch.nn.Module):
    """StyleGAN2(-ADA) generator ``z -> w -> image`` in plain PyTorch.

    Parameter and buffer names match NVIDIA's ``training.networks.Generator`` one to one.

    Example:
        >>> G = Generator(z_dim=32, c_dim=0, w_dim=32, img_resolution=16, img_channels=3,
        ...               mapping_kwargs={"num_layers": 2}, synthesis_kwargs={"channel_max": 16})
        >>> z = torch.randn(2, G.z_dim)
        >>> ws = G.mapping(z, None, truncation_psi=0.7)  # [2, num_ws, w_dim]
        >>> G.synthesis(ws).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        z_dim: int,  # input latent dimensionality, 0 = no latent
        c_dim: int,  # label dimensionality, 0 = unconditional
        w_dim: int,  # intermediate latent dimensionality
        img_resolution: int,  # output resolution, a power of two
        img_channels: int,  # number of output channels (3 = RGB)
        mapping_kwargs: Optional[Mapping[str, Any]] = None,  # MappingNetwork options, None = defaults
        synthesis_kwargs: Optional[Mapping[str, Any]] = None,  # SynthesisNetwork options, None = defaults
    ):
        super().__init__()
        mapping_kwargs = dict(mapping_kwargs or {})
        synthesis_kwargs = dict(synthesis_kwargs or {})
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_channels = img_channels
        self.config: Dict[str, Any] = dict(
            z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
            mapping_kwargs=copy.deepcopy(mapping_kwargs), synthesis_kwargs=copy.deepcopy(synthesis_kwargs))
        # Synthesis first: NVIDIA registers it first, which fixes the state-dict order.
        self.synthesis = SynthesisNetwork(w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                                          **synthesis_kwargs)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws, **mapping_kwargs)

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: Optional[torch.Tensor] = None,  # [N, c_dim] labels, None for unconditional networks
        truncation_psi: float = 1.0,
        truncation_cutoff: Optional[int] = None,
        noise_mode: str = "const",
        force_fp32: Optional[bool] = None,
        fused_modconv: Optional[bool] = None,
    ) -> torch.Tensor:  # [N, img_channels, H, W]
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, force_fp32=force_fp32, fused_modconv=fused_modconv)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def fingerprint(self) -> str:
        """SHA-256 of the weights (names, shapes and float32 values), the same on every device.

        Directions and filters record it, so they are never silently used with another generator.
        """
        from faceedit.utils.files import weights_fingerprint

        return weights_fingerprint(self)

    # ------------------------------------------------------------------ file format

    def save_pretrained(
        self,
        save_directory: Union[str, Path],
        dtype: Optional[torch.dtype] = None,  # store weights in this dtype, None = as they are (float32)
        metadata: Optional[Mapping[str, Any]] = None,  # extra JSON-serialisable provenance
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` to ``save_directory``.

        Files are written atomically; ``config.json`` is written last and records the weights'
        SHA-256, so a folder with a config always has the matching weights.
        """
        tensors = {}
        for name, tensor in self.state_dict().items():
            tensor = tensor.detach()
            if dtype is not None and tensor.is_floating_point():
                tensor = tensor.to(dtype)
            tensors[name] = tensor
        config = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "generator": self.config,
            "num_ws": self.num_ws,
            "weights_dtype": str(dtype or torch.float32).replace("torch.", ""),
            "metadata": dict(metadata or {}),
        }
        return write_model_folder(save_directory, tensors, config)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], device: Union[str, torch.device, None] = None) -> "Generator":
        """Build a generator with random weights from its construction arguments."""
        return cls(**_checked_kwargs(config)).to(device or "cpu")

    @classmethod
    def from_pretrained(
        cls,
        directory: Union[str, Path],
        device: Union[str, torch.device, None] = None,  # target device, None = CPU
        verify_hash: bool = True,  # check the weights against the SHA-256 in config.json
    ) -> "Generator":
        """Load a generator written by :meth:`save_pretrained`."""
        config, state = read_model_folder(directory, FORMAT_NAME, FORMAT_VERSION, "generator",
                                          "Generator.save_pretrained or `faceedit convert`", verify_hash=verify_hash)
        return build_generator(config.get("generator", {}), state, device=device, source=str(directory))


def _checked_kwargs(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Keep a generator config to the known constructor arguments, with a clear error otherwise."""
    required = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
    allowed = set(required) | {"mapping_kwargs", "synthesis_kwargs"}
    if not isinstance(config, Mapping):
        raise CheckpointFormatError(f"generator config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - allowed)
    missing = [k for k in required if k not in config]
    if unknown or missing:
        raise CheckpointFormatError(f"generator config has unknown keys {unknown} / misses {missing}")
    kwargs = {k: config[k] for k in allowed if k in config}
    for key in required:
        if not isinstance(kwargs[key], int) or isinstance(kwargs[key], bool) or not 0 <= kwargs[key] <= 1 << 16:
            raise CheckpointFormatError(f"generator config {key}={kwargs[key]!r} is not a sane integer")
    for key in ("mapping_kwargs", "synthesis_kwargs"):
        value = kwargs.get(key) or {}
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise CheckpointFormatError(f"generator config {key} must be a mapping of names, got {value!r}")
        kwargs[key] = dict(value)
    return kwargs


def build_generator(
    config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    device: Union[str, torch.device, None] = None,
    source: str = "checkpoint",
) -> Generator:
    """Build a :class:`Generator` from its config and load ``state_dict`` strictly.

    The network is first built on the ``meta`` device (no memory) so that absurd configs and
    shape mismatches are caught before anything large is allocated.
    """
    kwargs = _checked_kwargs(config)
    try:
        with torch.device("meta"):
            G = Generator(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointFormatError(f"{source}: cannot build a generator from its config ({exc})") from None
    expected = G.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise CheckpointFormatError(f"{source}: weights do not fit the generator config: missing {missing[:8]}"
                                    f"{'...' if len(missing) > 8 else ''}, unexpected {unexpected[:8]}"
                                    f"{'...' if len(unexpected) > 8 else ''}")
    for name, ref in expected.items():
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != tuple(ref.shape):
            got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise CheckpointFormatError(f"{source}: tensor {name} has shape {got}, expected {tuple(ref.shape)}")
        if not tensor.is_floating_point():
            raise CheckpointFormatError(f"{source}: tensor {name} has dtype {tensor.dtype}, expected floating point")
    target = torch.device(device) if device is not None else torch.device("cpu")
    G = G.to_empty(device=target)
    G.load_state_dict({k: v.to(device=target, dtype=torch.float32) for k, v in state_dict.items()}, strict=True)
    G.eval().requires_grad_(False)
    return G
