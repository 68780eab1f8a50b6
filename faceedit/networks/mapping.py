"""StyleGAN2's mapping network: ``z`` (and a class label ``c``) to intermediate latents ``w``."""

from __future__ import annotations

from typing import Optional

import torch

from faceedit.networks.layers import FullyConnectedLayer, normalize_2nd_moment

__all__ = ["MappingNetwork", "truncate"]


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: Optional[int] = None) -> torch.Tensor:
    """Pull latents towards the average latent (the truncation trick).

    Args:
        ws: latents ``[N, num_ws, w_dim]`` (or ``[N, w_dim]``, in which case ``cutoff`` must be None).
        w_avg: average latent ``[w_dim]``.
        psi: 1 keeps ``ws``, 0 gives ``w_avg``.
        cutoff: truncate only the first ``cutoff`` rows (coarse layers); None truncates all rows.

    Returns:
        Truncated latents, same shape as ``ws`` (a new tensor).
    """
    if cutoff is None:
        return w_avg.lerp(ws, psi)
    ws = ws.clone()
    ws[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], psi)
    return ws


class MappingNetwork(torch.nn.Module):
    """MLP that maps normalised ``z`` (concatenated with an embedded label) to ``w``.

    Keeps a running average ``w_avg`` of its outputs during training, used for truncation.
    """

    def __init__(
        self,
        z_dim: int,  # latent dimensionality, 0 = no latent (label only)
        c_dim: int,  # label dimensionality, 0 = unconditional
        w_dim: int,  # dimensionality of w
        num_ws: Optional[int],  # number of w rows to broadcast to, None = return [N, w_dim]
        num_layers: int = 8,  # number of dense layers
        embed_features: Optional[int] = None,  # label embedding width, None = w_dim
        layer_features: Optional[int] = None,  # hidden width, None = w_dim
        activation: str = "lrelu",  # hidden activation
        lr_multiplier: float = 0.01,  # learning-rate multiplier of the dense layers
        w_avg_beta: Optional[float] = 0.995,  # decay of the running w average, None = no average
    ):
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta

        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = w_dim
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]

        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(features[idx], features[idx + 1], activation=activation,
                                        lr_multiplier=lr_multiplier)
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(
        self,
        z: Optional[torch.Tensor],
        c: Optional[torch.Tensor],
        truncation_psi: float = 1.0,
        truncation_cutoff: Optional[int] = None,
        update_w_avg: bool = True,
    ) -> torch.Tensor:
        """Map latents to ``ws [N, num_ws, w_dim]`` (``[N, w_dim]`` when ``num_ws`` is None).

        ``update_w_avg`` lets a training step skip the running-average update (style mixing
        runs the mapping twice per step); it only matters in training mode.
        """
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must have shape [N, {self.z_dim}], got {None if z is None else tuple(z.shape)}")
            x = normalize_2nd_moment(z.to(torch.float32))  # [N, z_dim]
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"this network is conditional: c must have shape [N, {self.c_dim}], "
                                 f"got {None if c is None else tuple(c.shape)}")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))  # [N, embed_features]
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)  # [N, w_dim]

        if self.w_avg_beta is not None and self.training and update_w_avg and hasattr(self, "w_avg"):
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))

        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])  # [N, num_ws, w_dim]
        if truncation_psi != 1:
            if not hasattr(self, "w_avg"):
                raise ValueError("truncation needs w_avg, which this mapping network does not track")
            x = truncate(x, self.w_avg, truncation_psi, truncation_cutoff if self.num_ws is not None else None)
        return x
