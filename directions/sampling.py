"""Sample latents, render them, label the images, and store W and scores on disk in chunks.

A sampling folder holds ``manifest.json`` (generator fingerprint, classifier, seed, truncation,
chunk size) and ``chunk-NNNNNN.safetensors`` files (``z``, ``w`` and one ``score/<name>`` tensor
per attribute). Chunk ``i`` is a pure function of (seed, i), chunks are written atomically, and
finished chunks are skipped, so an interrupted run resumes where it stopped and gives the same
bytes as an uninterrupted one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Union

import numpy as np
import torch

from faceedit.errors import CheckpointFormatError
from faceedit.utils.files import atomic_write_bytes, atomic_write_text

__all__ = ["LabelledSamples", "sample_and_label", "load_samples"]

MANIFEST = "manifest.json"
SAMPLES_FORMAT = "faceedit-labelled-samples"


@dataclass
class LabelledSamples:
    """Latents and their attribute scores."""

    z: torch.Tensor  # [N, z_dim]
    w: torch.Tensor  # [N, w_dim] (after truncation)
    scores: Dict[str, torch.Tensor]  # attribute -> [N]

    def __len__(self) -> int:
        return len(self.w)


def _chunk_path(outdir: Path, index: int) -> Path:
    return outdir / f"chunk-{index:06d}.safetensors"


def _check_manifest(outdir: Path, manifest: Dict) -> None:
    path = outdir / MANIFEST
    if not path.is_file():
        outdir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return
    saved = json.loads(path.read_text())
    differs = sorted(k for k in manifest if k != "n" and saved.get(k) != manifest[k])
    if differs:
        raise ValueError(f"{outdir} holds samples made with different settings ({', '.join(differs)}); use another "
                         f"folder, or the same generator, classifier, seed, truncation and chunk size to resume")
    if manifest["n"] > saved.get("n", 0):  # asking for more samples extends the run
        atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@torch.no_grad()
def sample_and_label(
    G,  # faceedit Generator
    classifier,  # AttributeClassifier (images [N,3,H,W] in [-1,1] -> {name: [N]})
    outdir: Union[str, Path],  # sampling folder (resumed when it exists)
    n: int,  # number of samples
    seed: int = 0,  # seed of the latents
    truncation_psi: float = 1.0,  # truncation of the sampled w
    chunk_size: int = 1000,  # samples per file
    batch_size: int = 32,  # generator batch size
    progress: bool = True,  # show a progress bar
) -> LabelledSamples:
    """Sample ``n`` latents, label their images, store and return them (resuming finished chunks)."""
    from tqdm.auto import tqdm

    from faceedit.training.data import batch_seed

    if n < 1 or chunk_size < 1 or batch_size < 1:
        raise ValueError("n, chunk_size and batch_size must be at least 1")
    if G.c_dim:
        raise ValueError("sampling needs an unconditional generator (c_dim = 0)")
    outdir = Path(outdir)
    manifest = dict(format=SAMPLES_FORMAT, generator_fingerprint=G.fingerprint(), classifier=classifier.name,
                    n=n, seed=seed, truncation_psi=truncation_psi, chunk_size=chunk_size, z_dim=G.z_dim,
                    w_dim=G.w_dim)
    _check_manifest(outdir, manifest)
    from safetensors.torch import save as safetensors_save

    num_chunks = (n + chunk_size - 1) // chunk_size
    done = sum(min(chunk_size, n - i * chunk_size) for i in range(num_chunks) if _chunk_path(outdir, i).is_file())
    with tqdm(total=n, initial=done, unit="img", desc="sample+label", disable=not progress) as bar:
        for index in range(num_chunks):
            path = _chunk_path(outdir, index)
            if path.is_file():
                continue
            size = min(chunk_size, n - index * chunk_size)
            rng = np.random.RandomState(batch_seed(seed, index))
            z = torch.from_numpy(rng.randn(chunk_size, G.z_dim).astype(np.float32))[:size]  # [size, z_dim]
            ws_all, scores = [], []
            for start in range(0, size, batch_size):
                ws = G.mapping(z[start:start + batch_size].to(G.device), None, truncation_psi=truncation_psi)
                images = G.synthesis(ws, noise_mode="const")  # [B, 3, H, W]
                ws_all.append(ws[:, 0].float().cpu())
                scores.append(classifier(images))
                bar.update(len(ws))
            tensors = {"z": z, "w": torch.cat(ws_all)}
            for name in scores[0]:
                tensors[f"score/{name}"] = torch.cat([s[name] for s in scores]).float()
            atomic_write_bytes(path, safetensors_save({k: v.contiguous() for k, v in tensors.items()}))
    return load_samples(outdir)


def load_samples(outdir: Union[str, Path]) -> LabelledSamples:
    """Read every chunk of a sampling folder, in order."""
    from safetensors.torch import load_file

    outdir = Path(outdir)
    if not (outdir / MANIFEST).is_file():
        raise CheckpointFormatError(f"{outdir} has no {MANIFEST}; make samples with `faceedit directions fit` or "
                                    f"directions.sample_and_label")
    manifest = json.loads((outdir / MANIFEST).read_text())
    num_chunks = (manifest["n"] + manifest["chunk_size"] - 1) // manifest["chunk_size"]
    chunks = []
    for index in range(num_chunks):
        path = _chunk_path(outdir, index)
        if not path.is_file():
            raise CheckpointFormatError(f"{outdir} is incomplete ({path.name} missing); run the sampling again to "
                                        f"finish it")
        chunks.append(load_file(str(path)))
    names = [k[len("score/"):] for k in chunks[0] if k.startswith("score/")]
    return LabelledSamples(z=torch.cat([c["z"] for c in chunks]), w=torch.cat([c["w"] for c in chunks]),
                           scores={name: torch.cat([c[f"score/{name}"] for c in chunks]) for name in names})
