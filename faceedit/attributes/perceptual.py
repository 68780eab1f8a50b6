"""A perceptual distance from an attribute classifier's feature maps, LPIPS-style.

LPIPS compares images through VGG16's feature maps; VGG's weights cannot be downloaded everywhere, and
VGG knows nothing of a synthetic world. An attribute classifier trained on that world (the synthfaces
*labeler*) has feature maps that respond to exactly the cues its factors depend on (wrinkles, grey hair,
jaw shape), so the same recipe over its maps makes a perceptual loss that needs nothing from the network:
at every stage, unit-normalise the channels at each pixel, square the difference, sum over channels,
average over pixels; add the stages. No learned per-channel weights (LPIPS's "lin" layers): every
stage counts alike.

Only a classifier that may *build* things belongs here (the labeler), never the judge: the judge must
stay independent of everything it evaluates.
"""

from __future__ import annotations

from typing import List

import torch

__all__ = ["ClassifierFeatureDistance", "classifier_feature_distance", "classifier_feature_maps"]


def classifier_feature_maps(net, images: torch.Tensor) -> List[torch.Tensor]:
    """The stem's and every block's output for ``images`` ``[N, 3, H, W]`` in [-1, 1].

    Returns:
        One ``[N, C_k, R_k, R_k]`` map per stage, coarser stage by stage.
    """
    maps = [net.stem(net.prepare(images))]  # [N, C0, R/2, R/2]
    for block in net.blocks:
        maps.append(block(maps[-1]))  # [N, C_k, R_k, R_k]
    return maps


def classifier_feature_distance(net, a: torch.Tensor, b: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """LPIPS-style distance between ``a`` and ``b`` through the feature maps of classifier ``net``.

    Args:
        net: an :class:`~faceedit.attributes.AttributeNet` (in eval mode; its weights are not changed).
        a, b: images ``[N, 3, H, W]`` in [-1, 1].

    Returns:
        ``[N]``: 0 for identical images, growing with perceptual difference; differentiable in ``a`` and ``b``.
    """
    total = a.new_zeros(a.shape[0])
    for fa, fb in zip(classifier_feature_maps(net, a), classifier_feature_maps(net, b)):
        fa = fa * torch.rsqrt(fa.square().sum(dim=1, keepdim=True) + eps)  # [N, C, R, R] unit vectors per pixel
        fb = fb * torch.rsqrt(fb.square().sum(dim=1, keepdim=True) + eps)
        total = total + (fa - fb).square().sum(dim=1).mean(dim=(1, 2))  # [N]
    return total


class ClassifierFeatureDistance(torch.nn.Module):
    """Module form of :func:`classifier_feature_distance` over a frozen classifier.

    Example:
        >>> from faceedit.attributes import load_classifier
        >>> distance = ClassifierFeatureDistance(load_classifier("synthfaces-labeler"))  # doctest: +SKIP
        >>> distance(fake, target).mean().backward()  # doctest: +SKIP
    """

    def __init__(
        self,
        net,  # AttributeNet whose feature maps are compared; frozen and put in eval mode here
    ):
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> "ClassifierFeatureDistance":
        super().train(mode)
        self.net.eval()  # batch norm keeps its running statistics whatever the caller does
        return self

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W] x 2 -> [N]
        return classifier_feature_distance(self.net, a, b)
