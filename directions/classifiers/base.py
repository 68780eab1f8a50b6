"""One interface for every attribute classifier: images in, named attribute scores out."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence, Union

import torch

from faceedit.utils.device import resolve_device

__all__ = ["AttributeClassifier", "CallableClassifier", "SynthfacesClassifier"]


class AttributeClassifier:
    """Base class. Subclasses implement :meth:`_scores` for one batch on :attr:`device`.

    Calling the classifier with images ``[N, 3, H, W]`` in [-1, 1] (the generator's output) returns
    ``{attribute: [N] float32 on the CPU}``, batched internally.
    """

    name: str = "classifier"  # recorded in direction files
    attributes: Sequence[str] = ()  # names of the scores it returns

    def __init__(self, device: Union[str, torch.device, None] = None, batch_size: int = 64):
        self.device = resolve_device(device)
        self.batch_size = batch_size

    def _scores(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [N, 3, H, W] in [-1, 1], got shape {tuple(images.shape)}")
        parts = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size].to(self.device, torch.float32)
            parts.append({k: v.detach().float().cpu() for k, v in self._scores(batch).items()})
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


class CallableClassifier(AttributeClassifier):
    """Any torch callable: ``fn(images) -> {name: [N]}`` or ``[N]`` / ``[N, K]`` tensors."""

    def __init__(
        self,
        fn: Callable[[torch.Tensor], Union[torch.Tensor, Dict[str, torch.Tensor]]],  # the model
        attributes: Optional[Sequence[str]] = None,  # names for tensor outputs' columns, None = 'score', 'score_1'..
        name: str = "callable",  # recorded in direction files
        device: Union[str, torch.device, None] = None,
        batch_size: int = 64,
    ):
        super().__init__(device, batch_size)
        self.fn = fn
        self.name = name
        self.attributes = tuple(attributes or ())

    def _scores(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        out = self.fn(images)
        if isinstance(out, dict):
            return dict(out)
        out = out.reshape(len(images), -1)  # [N, K]
        names = self.attributes or (["score"] + [f"score_{i}" for i in range(1, out.shape[1])])
        if len(names) != out.shape[1]:
            raise ValueError(f"the callable returned {out.shape[1]} columns but {len(names)} attribute names")
        return {name: out[:, i] for i, name in enumerate(names)}


class SynthfacesClassifier(AttributeClassifier):
    """The bundled synthfaces labeler (or judge) as scores: continuous factors in their units,
    binary factors as probabilities, categorical factors as one probability per class
    (``'hair_color=blonde'``)."""

    def __init__(self, model: str = "synthfaces-labeler", device: Union[str, torch.device, None] = None,
                 batch_size: int = 256):
        from faceedit.attributes import load_classifier

        super().__init__(device, batch_size)
        self.name = str(model)
        self.net = load_classifier(model, device=self.device)
        names = []
        for head in self.net.heads:
            if head["kind"] == "categorical":
                names += [f"{head['name']}={c}" for c in head["classes"]]
            else:
                names.append(head["name"])
        self.attributes = tuple(names)

    def _scores(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        predictions = self.net.predict(images, batch_size=len(images))
        scores = {}
        for head in self.net.heads:
            value = predictions[head["name"]]
            if head["kind"] == "categorical":
                scores.update({f"{head['name']}={c}": value[:, i] for i, c in enumerate(head["classes"])})
            else:
                scores[head["name"]] = value
        return scores
