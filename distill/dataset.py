"""Synthetic paired datasets: the same face before and after an edit, in WebDataset-style tar shards.

For every seed: a latent ``w`` (with truncation), an edit strength ``alpha`` drawn from the range,
one set of noise maps for both images, ``A = G(w)`` and ``B = G(w + alpha d)`` on the chosen W+
rows. *Anchored* pairs (``anchor=``, :mod:`distill.anchors`) start from a picture the generator did not
make (a fresh render, a photo) and add the teacher's change around its encoded latent to it. An
optional classifier keeps a pair only where it confirms the change (the target moves by
at least ``min_change`` in the edit's direction) and the other attributes stay put (each moves by
at most ``max_other_change``).

Layout (``OUT/``)::

    dataset.json               what was asked for (generator fingerprint, direction, ranges, filters)
    shard-000000.tar           seeds [start, start + shard_seeds): KEY.a.png, KEY.b.png, KEY.json per kept pair
    shard-000000.json          that shard's summary (pairs kept, rejected, SHA-256 of the tar)

Shard k always covers the same seeds, so the same request gives byte-identical shards (tar
headers carry no times or owners). Shards are written to a temporary name and renamed, their
summary last: a run killed at any moment (even ``kill -9``) resumes with the shards it has and
finishes with the same bytes, never a torn or duplicated shard. Rank ``r`` of ``world`` processes
writes shards ``k`` with ``k % world == r`` (``torchrun``: one process per GPU or machine).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
import torch

from faceedit.utils.files import atomic_write_bytes, atomic_write_text
from faceedit.utils.png import png_bytes

__all__ = ["PairSpec", "make_dataset", "read_pairs", "export_folders", "dataset_status", "DATASET_FORMAT",
           "render_pairs", "render_pairs_in_batches", "request_spec", "unfiltered_pairs", "dataset_attribute"]

DATASET_FORMAT = "faceedit-paired-dataset"
DATASET_VERSION = 1


@dataclass(frozen=True)
class PairSpec:
    """What a paired dataset holds; saved as ``dataset.json``."""

    direction: str  # bundled direction name or path it was loaded from (recorded)
    alpha_min: float = 1.5  # smallest edit strength, in std of the boundary distance
    alpha_max: float = 3.0  # largest edit strength
    layers: Optional[Tuple[int, int]] = None  # W+ rows to edit, None = all
    truncation_psi: float = 0.8  # truncation of the sampled latents
    seed_start: int = 0  # first seed
    num_seeds: int = 1000  # seeds tried (pairs kept <= this, fewer with filters)
    shard_seeds: int = 250  # seeds per shard
    batch_size: int = 32  # seeds per generator call; part of the request, as float rounding depends on it
    classifier: Optional[str] = None  # classifier for the filter, None = keep every pair
    target: Optional[str] = None  # attribute the edit should change (filter)
    min_change: float = 0.0  # keep a pair only if the target moves at least this much (in the edit's sign)
    max_other_change: Dict[str, float] = field(default_factory=dict)  # attribute -> largest allowed |change|
    anchor: Optional[str] = None  # A's source: None = the generator's image G(w); "synthfaces" = fresh renders;
    #                               a folder of aligned crops. Anchored: B = A + G(enc(A) + alpha d) - G(enc(A))

    def __post_init__(self):
        if not self.alpha_min <= self.alpha_max:
            raise ValueError(f"alpha range must satisfy alpha_min <= alpha_max, got {self.alpha_min}, {self.alpha_max}")
        if self.num_seeds < 1 or self.shard_seeds < 1 or self.batch_size < 1:
            raise ValueError("num_seeds, shard_seeds and batch_size must be at least 1")
        if (self.min_change or self.max_other_change) and not (self.classifier and self.target):
            raise ValueError("a filter (min_change / max_other_change) needs a classifier and a target attribute")

    @property
    def num_shards(self) -> int:
        return (self.num_seeds + self.shard_seeds - 1) // self.shard_seeds

    def shard_range(self, index: int) -> Tuple[int, int]:
        start = self.seed_start + index * self.shard_seeds
        return start, min(start + self.shard_seeds, self.seed_start + self.num_seeds)


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
    tar.addfile(info, io.BytesIO(data))


def _seed_draws(G, seeds: List[int], spec: "PairSpec"):
    """Everything random about each pair, from one torch generator per seed: ``z``, ``alpha`` and the noise
    maps shared by both images."""
    layers = G.synthesis.noise_layers()
    sizes = [res * res for res in layers.values()]
    z, alphas, noise = [], [], []
    for seed in seeds:
        g = torch.Generator().manual_seed(int(seed))
        z.append(torch.randn(G.z_dim, generator=g))
        alphas.append(spec.alpha_min + (spec.alpha_max - spec.alpha_min) * float(torch.rand((), generator=g)))
        noise.append(torch.randn(sum(sizes), generator=g))
    flat = torch.stack(noise)  # [N, sum R^2]
    maps, offset = {}, 0
    for (name, res), size in zip(layers.items(), sizes):
        maps[name] = flat[:, offset:offset + size].reshape(-1, 1, res, res).to(G.device)
        offset += size
    return torch.stack(z).to(G.device), np.array(alphas), maps


@torch.no_grad()
def render_pairs(G, direction, spec: PairSpec, seeds: List[int], encoder=None,
                 noise_seeds: Optional[List[int]] = None, anchor_latents: Optional[torch.Tensor] = None):
    """``(A, B, alphas)`` for ``seeds``: float ``[N, 3, H, W]`` twice and ``[N]`` strengths.

    ``encoder``: the LatentEncoder of ``G``, needed by anchored specs (it finds the anchors' latents).
    ``noise_seeds``: draw the noise maps from these seeds instead (same latents and strengths): what the noise
    alone changes, which no filter can guess from its input. None = each pair's own seed.
    ``anchor_latents``: anchored specs only, the anchors' latents ``[N, num_ws, w_dim]`` found some other way
    (e.g. refined by projection from the encoder's); None = the encoder's.
    """
    from directions.edit import apply_direction

    z, alphas, noise = _seed_draws(G, seeds, spec)
    if noise_seeds is not None:
        if len(noise_seeds) != len(seeds):
            raise ValueError(f"{len(noise_seeds)} noise seeds for {len(seeds)} pairs: give one per pair")
        noise = _seed_draws(G, noise_seeds, spec)[2]
    if anchor_latents is not None and spec.anchor is None:
        raise ValueError("anchor_latents are for anchored pairs; this request draws its latents from its seeds")
    if spec.anchor is None:
        ws = G.mapping(z, None, truncation_psi=spec.truncation_psi)  # [N, num_ws, w_dim]
    else:
        if encoder is None and anchor_latents is None:
            raise ValueError("anchored pairs need the generator's latent encoder to find the anchors' latents")
        from distill.anchors import anchor_images
        from faceedit.inversion.encoder import encode_images

        anchors = anchor_images(spec.anchor, seeds, G.img_resolution).to(G.device)  # [N, 3, H, W]
        ws = encode_images(encoder, anchors) if anchor_latents is None else anchor_latents.to(G.device)
        if ws.shape[0] != len(seeds):
            raise ValueError(f"{ws.shape[0]} anchor latents for {len(seeds)} pairs: give one per pair")
    edited = apply_direction(ws, direction.vector, torch.from_numpy(alphas).float().to(G.device), spec.layers,
                             direction.unit_for(spec.layers))
    a = G.synthesis(ws, noise_mode="const", noise=noise)  # [N, 3, H, W]
    b = G.synthesis(edited, noise_mode="const", noise=noise)
    if spec.anchor is None:
        return a, b, alphas
    return anchors, (anchors + (b - a)).clamp(-1, 1), alphas  # the teacher's change, on the anchor itself


def render_pairs_in_batches(G, direction, spec: PairSpec, seeds: List[int], encoder=None,
                            noise_seeds: Optional[List[int]] = None, anchor_latents: Optional[torch.Tensor] = None,
                            batch: int = 64) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`render_pairs` over ``seeds`` a batch at a time: ``(A, B)``, float ``[N, 3, R, R]`` each
    (``noise_seeds`` and ``anchor_latents``, when given, one per seed as there)."""
    parts = [render_pairs(G, direction, spec, seeds[i:i + batch], encoder,
                          None if noise_seeds is None else noise_seeds[i:i + batch],
                          None if anchor_latents is None else anchor_latents[i:i + batch])
             for i in range(0, len(seeds), batch)]
    return torch.cat([part[0] for part in parts]), torch.cat([part[1] for part in parts])


def request_spec(header: Dict, **changes) -> PairSpec:
    """The ``PairSpec`` of a dataset's request (its ``dataset.json`` header) without its classifier filter, with
    ``changes`` (e.g. ``anchor="synthfaces"``): every pair of its seeds, kept or not."""
    layers = header["spec"]["layers"]
    return PairSpec(**{**header["spec"], "classifier": None, "target": None, "min_change": 0.0,
                       "max_other_change": {}, "layers": tuple(layers) if layers else None, **changes})


def unfiltered_pairs(G, header: Dict, model: str, n: int, seed: int, encoder=None,
                     anchor_latents: Optional[torch.Tensor] = None, **changes) -> Tuple[torch.Tensor, torch.Tensor]:
    """The teacher's ``(A, B)`` (float ``[n, 3, R, R]`` each) for seeds ``seed .. seed + n - 1`` with a dataset's
    request and no classifier filter: what the teacher does to faces nobody chose (``changes`` as in
    :func:`request_spec`; ``model`` names the generator for the direction's lookup; ``encoder`` and
    ``anchor_latents`` as in :func:`render_pairs`, for anchored requests)."""
    from directions.bundled import resolve_direction

    spec = request_spec(header, **changes)
    direction = resolve_direction(spec.direction, model, generator=G)
    return render_pairs_in_batches(G, direction, spec, list(range(seed, seed + n)), encoder,
                                   anchor_latents=anchor_latents)


def dataset_attribute(header: Dict) -> str:
    """The attribute a dataset's pairs change: its classifier filter's target, else the direction's attribute
    (its name before ``-orth-``)."""
    target = header["spec"].get("target")
    if target:
        return str(target)
    return Path(str(header["spec"]["direction"])).stem.split("-orth-")[0]


def _keep(spec: PairSpec, scores_a: Dict[str, torch.Tensor], scores_b: Dict[str, torch.Tensor],
          alphas: np.ndarray) -> np.ndarray:
    """Which pairs pass the filter, ``bool [N]``."""
    keep = np.ones(len(alphas), dtype=bool)
    if spec.target is None:
        return keep
    change = (scores_b[spec.target] - scores_a[spec.target]).numpy() * np.sign(alphas)  # towards the edit
    keep &= change >= spec.min_change
    for name, limit in spec.max_other_change.items():
        keep &= np.abs((scores_b[name] - scores_a[name]).numpy()) <= limit
    return keep


def _encode_batch(seeds, img_a, img_b, alphas, keep, scores_a, scores_b) -> List[Tuple[str, bytes]]:
    """Tar members (name, bytes) of one batch's kept pairs, in seed order."""
    members = []
    for i, seed in enumerate(seeds):
        if not keep[i]:
            continue
        key = f"{seed:09d}"
        record = {"seed": seed, "alpha": round(float(alphas[i]), 6)}
        if scores_a is not None:
            record["scores_a"] = {k: round(float(v[i]), 5) for k, v in scores_a.items() if "=" not in k}
            record["scores_b"] = {k: round(float(v[i]), 5) for k, v in scores_b.items() if "=" not in k}
        members += [(f"{key}.a.png", png_bytes(img_a[i])), (f"{key}.b.png", png_bytes(img_b[i])),
                    (f"{key}.json", (json.dumps(record, sort_keys=True) + "\n").encode())]
    return members


def _write_shard(out: Path, index: int, G, direction, spec: PairSpec, classifier, encoder, bar) -> Dict:
    from faceedit.utils.images import images_from_tensor

    start, stop = spec.shard_range(index)
    buffer = io.BytesIO()
    kept = rejected = 0
    # PNG encoding runs inline: in a thread beside torch's it measured slower on 2 cores (BENCHMARKS.md).
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for lo in range(start, stop, spec.batch_size):
            seeds = list(range(lo, min(lo + spec.batch_size, stop)))
            a, b, alphas = render_pairs(G, direction, spec, seeds, encoder)
            scores_a = scores_b = None
            keep = np.ones(len(seeds), dtype=bool)
            if classifier is not None:
                scores_a, scores_b = classifier(a), classifier(b)
                keep = _keep(spec, scores_a, scores_b, alphas)
            kept += int(keep.sum())
            rejected += int((~keep).sum())
            members = _encode_batch(seeds, images_from_tensor(a), images_from_tensor(b), alphas, keep, scores_a,
                                    scores_b)
            for name, data in members:
                _tar_member(tar, name, data)
            bar.update(len(seeds))
            bar.set_postfix(kept=kept)
    data = buffer.getvalue()
    atomic_write_bytes(out / f"shard-{index:06d}.tar", data)
    summary = dict(shard=index, seeds=[start, stop], pairs=kept, rejected=rejected,
                   sha256=hashlib.sha256(data).hexdigest())
    atomic_write_text(out / f"shard-{index:06d}.json", json.dumps(summary, sort_keys=True) + "\n")  # marks it done
    return summary


def _upgraded_header(header: Dict, direction) -> Dict:
    """A ``dataset.json`` written by an older faceedit, with the keys it lacks set to what it did then (no
    anchors; one unit = the direction's projection std), so its datasets resume."""
    header.setdefault("direction_unit", direction.projection_std)
    header.get("spec", {}).setdefault("anchor", None)
    return header


def _shard_done(out: Path, index: int) -> bool:
    meta, tar = out / f"shard-{index:06d}.json", out / f"shard-{index:06d}.tar"
    if not (meta.is_file() and tar.is_file()):
        return False
    try:
        expected = json.loads(meta.read_text())["sha256"]
    except (ValueError, KeyError):
        return False
    return hashlib.sha256(tar.read_bytes()).hexdigest() == expected


def make_dataset(
    out: Union[str, Path],  # dataset folder (resumed when it exists)
    G,  # faceedit Generator
    direction,  # directions.Direction fitted on G
    spec: PairSpec,
    classifier=None,  # AttributeClassifier for the filter (spec.classifier names it)
    rank: int = 0,  # this process's rank
    world: int = 1,  # number of processes sharing the work
    progress: bool = True,
    generator_name: Optional[str] = None,  # registered name of G, recorded so filters know their face framing
    encoder=None,  # LatentEncoder trained for G; needed by anchored specs (spec.anchor)
) -> Dict:
    """Generate (or finish) this rank's shards; returns ``{'pairs', 'rejected', 'seconds', 'shards'}``."""
    from tqdm.auto import tqdm

    direction.check_generator(G)
    if spec.classifier and classifier is None:
        raise ValueError(f"the spec filters with {spec.classifier!r}; pass that classifier")
    anchors = None
    if spec.anchor is not None:
        from distill.anchors import anchor_fingerprint
        from faceedit.utils.files import weights_fingerprint

        if encoder is None:
            raise ValueError(f"anchored pairs ({spec.anchor!r}) need a latent encoder trained for this generator; "
                             f"train one with `faceedit train-encoder`, or leave out the anchor")
        encoder.check_generator(G)
        anchors = dict(anchor=anchor_fingerprint(spec.anchor), encoder=weights_fingerprint(encoder))
    if not 0 <= rank < world:
        raise ValueError(f"rank must satisfy 0 <= rank < world, got {rank} of {world}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    header = dict(format=DATASET_FORMAT, format_version=DATASET_VERSION, generator_name=generator_name,
                  generator_fingerprint=G.fingerprint(),
                  direction_fingerprint=hashlib.sha256(np.asarray(direction.vector, np.float64).tobytes()).hexdigest(),
                  direction_unit=direction.unit_for(spec.layers), resolution=G.img_resolution, spec=asdict(spec))
    if anchors is not None:
        header["anchors"] = anchors  # which pictures and which encoder: resuming with others is refused
    header_path = out / "dataset.json"
    if header_path.is_file():
        existing = _upgraded_header(json.loads(header_path.read_text()), direction)
        if existing != json.loads(json.dumps(header)):
            raise ValueError(f"{out} holds a dataset made with other settings, generator, direction or anchors; use "
                             f"a new folder, or the same command to resume it")
    elif rank == 0:
        atomic_write_text(header_path, json.dumps(header, indent=2, sort_keys=True) + "\n")
    mine = [k for k in range(spec.num_shards) if k % world == rank]
    todo = [k for k in mine if not _shard_done(out, k)]
    total = sum(spec.shard_range(k)[1] - spec.shard_range(k)[0] for k in todo)
    start = time.monotonic()
    results = []
    with tqdm(total=total, unit="seed", desc=f"pairs (rank {rank}/{world})", disable=not progress) as bar:
        for index in todo:
            results.append(_write_shard(out, index, G, direction, spec, classifier, encoder, bar))
    return dict(pairs=sum(r["pairs"] for r in results), rejected=sum(r["rejected"] for r in results),
                seconds=time.monotonic() - start, shards=len(results), skipped=len(mine) - len(todo))


def dataset_status(out: Union[str, Path]) -> Dict:
    """How far a dataset is: shards done / total, pairs kept and rejected so far."""
    out = Path(out)
    header = json.loads((out / "dataset.json").read_text())
    spec = PairSpec(**{k: (tuple(v) if k == "layers" and v is not None else v) for k, v in header["spec"].items()})
    done = [json.loads((out / f"shard-{k:06d}.json").read_text()) for k in range(spec.num_shards)
            if (out / f"shard-{k:06d}.json").is_file()]
    return dict(shards_done=len(done), shards=spec.num_shards, pairs=sum(d["pairs"] for d in done),
                rejected=sum(d["rejected"] for d in done))


def read_pairs(out: Union[str, Path]) -> Iterator[Tuple[np.ndarray, np.ndarray, Dict]]:
    """Every pair in shard order: ``(A uint8 [H, W, 3], B, record)``. Unfinished shards are skipped."""
    from PIL import Image

    out = Path(out)
    for meta in sorted(out.glob("shard-*.json")):
        with tarfile.open(meta.with_suffix(".tar")) as tar:
            members = {m.name: m for m in tar.getmembers()}
            keys = sorted({name.split(".")[0] for name in members})
            for key in keys:
                a = np.asarray(Image.open(io.BytesIO(tar.extractfile(members[f"{key}.a.png"]).read())).convert("RGB"))
                b = np.asarray(Image.open(io.BytesIO(tar.extractfile(members[f"{key}.b.png"]).read())).convert("RGB"))
                yield a, b, json.loads(tar.extractfile(members[f"{key}.json"]).read())


def export_folders(out: Union[str, Path], dest: Union[str, Path]) -> int:
    """Write the pairs as ``dest/A/KEY.png`` and ``dest/B/KEY.png`` (pix2pix layout); returns the count."""
    from faceedit.utils.images import save_png

    dest = Path(dest)
    count = 0
    for a, b, record in read_pairs(out):
        key = f"{record['seed']:09d}"
        save_png(a, dest / "A" / f"{key}.png")
        save_png(b, dest / "B" / f"{key}.png")
        count += 1
    return count
