import os

import numpy as np
import pytest
import torch

from directions.io import Direction
from distill.dataset import PairSpec, make_dataset
from distill.filter import Filter
from distill.networks import build_generator
from distill.train import FilterTrainer, FilterTrainingConfig
from tests.conftest import tiny_generator

SMALL = FilterTrainingConfig(ngf=4, n_downsampling=2, n_blocks=1, ndf=4, n_layers_d=2, num_d=2, batch_size=4, steps=6,
                             checkpoint_every=3, sample_every=3, log_every=1, held_out=4, lambda_lpips=0.0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    G = tiny_generator(seed=0)
    v = np.random.RandomState(1).randn(G.w_dim)
    d = Direction(vector=v / np.linalg.norm(v), attribute="red", generator_name="tiny",
                  generator_fingerprint=G.fingerprint(), projection_std=2.0)
    folder = tmp_path_factory.mktemp("pairs")
    make_dataset(folder, G, d, PairSpec(direction="red", num_seeds=24, shard_seeds=12), progress=False)
    return folder


def _weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_training_writes_checkpoints_samples_plots_and_a_filter(dataset, tmp_path):
    trainer = FilterTrainer(tmp_path / "run", dataset, SMALL, device="cpu", progress=False)
    start = _weights(trainer.G)
    flt = trainer.train()
    assert trainer.state.step == 6 and any(not torch.equal(start[k], v) for k, v in trainer.G.state_dict().items())
    for name in ("run.json", "stats.jsonl", "loss.png", "samples/step-0000006.png"):
        assert (tmp_path / "run" / name).is_file(), name
    checkpoint = sorted((tmp_path / "run" / "checkpoints").glob("step-*"))[-1]
    loaded = Filter.from_pretrained(checkpoint / "filter")
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(loaded.apply_tensor(x), flt.apply_tensor(x))
    assert loaded.metadata["training_steps"] == 6


def test_resume_is_exact(dataset, tmp_path):
    full = FilterTrainer(tmp_path / "full", dataset, SMALL, device="cpu", progress=False)
    full.train()
    part = FilterTrainer(tmp_path / "part", dataset, SMALL, device="cpu", progress=False)
    part.train(max_steps=3)
    resumed = FilterTrainer(tmp_path / "part", dataset, None, device="cpu", progress=False)  # config from run.json
    assert resumed.state.step == 3
    resumed.train()
    for key, value in full.G.state_dict().items():
        assert torch.equal(value, resumed.G.state_dict()[key]), key
    lines = (tmp_path / "part" / "stats.jsonl").read_text().splitlines()
    assert len(lines) == 6  # no duplicated log rows after the resume


def test_configuration_guard(dataset, tmp_path):
    FilterTrainer(tmp_path / "run", dataset, SMALL, device="cpu", progress=False).train(max_steps=1)
    with pytest.raises(ValueError, match="another configuration"):
        FilterTrainer(tmp_path / "run", dataset, FilterTrainingConfig(ngf=8, held_out=4), device="cpu",
                      progress=False)
    with pytest.raises(ValueError, match="held_out"):
        FilterTrainer(tmp_path / "x", dataset, FilterTrainingConfig(held_out=100), device="cpu", progress=False)
    import dataclasses

    bf16 = FilterTrainer(tmp_path / "run", dataset, dataclasses.replace(SMALL, precision="bf16"), device="cpu",
                         progress=False)  # the precision may change on resume (a run moved to another machine)
    assert bf16.state.step == 1 and bf16.config.precision == "bf16"
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16"):
        FilterTrainingConfig(precision="fp16")
    import shutil

    moved = shutil.copytree(dataset, tmp_path / "moved")
    FilterTrainer(tmp_path / "run", moved, SMALL, device="cpu", progress=False)  # a moved dataset resumes
    G = tiny_generator(seed=0)
    v = np.random.RandomState(2).randn(G.w_dim)
    other = Direction(vector=v / np.linalg.norm(v), attribute="red", generator_name="tiny",
                      generator_fingerprint=G.fingerprint(), projection_std=2.0)
    make_dataset(tmp_path / "other", G, other, PairSpec(direction="red", num_seeds=12, shard_seeds=12), progress=False)
    with pytest.raises(ValueError, match="other datasets than"):
        FilterTrainer(tmp_path / "run", tmp_path / "other", SMALL, device="cpu", progress=False)


def _second_dataset(folder, generator_seed=0, num_seeds=12, resolution=16):
    """Pairs along another direction, of the tiny generator with ``generator_seed`` (0 and 16 px: the fixture's)."""
    G = tiny_generator(seed=generator_seed, resolution=resolution)
    v = np.random.RandomState(3).randn(G.w_dim)
    d = Direction(vector=v / np.linalg.norm(v), attribute="red", generator_name="tiny",
                  generator_fingerprint=G.fingerprint(), projection_std=2.0)
    make_dataset(folder, G, d, PairSpec(direction="red", num_seeds=num_seeds, shard_seeds=12), progress=False)
    return folder


def test_several_datasets_are_pooled_and_each_keeps_its_own_held_out_pairs(dataset, tmp_path):
    import json

    from distill.train import load_pairs
    from faceedit.cli.main import main

    other = _second_dataset(tmp_path / "other")
    trainer = FilterTrainer(tmp_path / "run", [dataset, other], SMALL, device="cpu", progress=False)
    (a1, b1, _), (a2, b2, _) = load_pairs(dataset), load_pairs(other)
    assert trainer.num_train == (len(a1) - 4) + (len(a2) - 4)
    held_a, held_b = trainer.held_out()
    torch.testing.assert_close(held_a, (torch.cat([a1[-4:], a2[-4:]]).float() - 128) / 127.5)
    torch.testing.assert_close(held_b, (torch.cat([b1[-4:], b2[-4:]]).float() - 128) / 127.5)
    train_a = trainer.A[:trainer.num_train]
    assert torch.equal(train_a, torch.cat([a1[:-4], a2[:-4]]))  # every other pair trains
    flt = trainer.train(max_steps=2)
    assert flt.metadata["dataset"]["num_seeds"] == 24  # the first dataset's request: the edit it applies
    assert [spec["num_seeds"] for spec in flt.metadata["datasets"]] == [24, 12]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["dataset"] == [str(dataset), str(other)]
    with pytest.raises(ValueError, match="other datasets than"):  # resumed with only one of them
        FilterTrainer(tmp_path / "run", dataset, None, device="cpu", progress=False)
    args = ["distill", "train", "--data", str(dataset), "--data", str(other), "--run-dir", str(tmp_path / "run"),
            "--no-progress", "--device", "cpu", "--steps", "3"]
    assert main(args) == 0  # the command line takes the same two datasets and resumes the run
    assert json.loads((tmp_path / "run" / "stats.jsonl").read_text().splitlines()[-1])["step"] == 3


def test_datasets_of_another_teacher_or_too_few_pairs_are_refused(dataset, tmp_path):
    foreign = _second_dataset(tmp_path / "foreign", generator_seed=1)
    with pytest.raises(ValueError, match="another generator"):
        FilterTrainer(tmp_path / "run", [dataset, foreign], SMALL, device="cpu", progress=False)
    larger = _second_dataset(tmp_path / "larger", resolution=32)
    with pytest.raises(ValueError, match="holds 32x32 pairs, .* 16x16; train on datasets of one resolution"):
        FilterTrainer(tmp_path / "run", [dataset, larger], SMALL, device="cpu", progress=False)
    small = _second_dataset(tmp_path / "small", num_seeds=3)
    with pytest.raises(ValueError, match="small has 3 pairs; it needs more than held_out=4"):
        FilterTrainer(tmp_path / "run", [dataset, small], SMALL, device="cpu", progress=False)
    with pytest.raises(ValueError, match="no dataset given"):
        FilterTrainer(tmp_path / "run", [], SMALL, device="cpu", progress=False)


def _ddp_worker(rank, world, store, dataset, run_dir, out):
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        trainer = FilterTrainer(run_dir, dataset, SMALL, device="cpu", progress=False)
        trainer.train(max_steps=3)
        torch.save(trainer.G.state_dict(), f"{out}-{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_with_two_gloo_processes_matches_one_process(dataset, tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "store"), str(dataset), str(tmp_path / "ddp"), str(tmp_path / "w")),
             nprocs=2, join=True)
    rank0 = torch.load(tmp_path / "w-0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "w-1.pt", weights_only=True)
    single = FilterTrainer(tmp_path / "single", dataset, SMALL, device="cpu", progress=False)
    single.train(max_steps=3)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # the ranks stay in sync
    # Two half batches with averaged gradients = one process on the whole batch. Compared on outputs:
    # biases right before an instance norm get pure rounding-noise gradients that Adam scales up to lr.
    ddp = build_generator(**SMALL.architecture())
    ddp.load_state_dict(rank0)
    a, _ = single.held_out()
    with torch.no_grad():
        torch.testing.assert_close(ddp.eval()(a), single.G.eval()(a), rtol=0, atol=2e-3)
    assert (tmp_path / "ddp" / "checkpoints").is_dir() and os.path.isfile(tmp_path / "ddp" / "run.json")


def test_pairs_are_mirrored_together_and_the_draw_does_not_depend_on_the_setting(dataset, tmp_path):
    import dataclasses

    mirrored = FilterTrainer(tmp_path / "m", dataset, SMALL, device="cpu", progress=False)
    plain = FilterTrainer(tmp_path / "p", dataset, dataclasses.replace(SMALL, flip=False), device="cpu",
                          progress=False)
    flips = 0
    for step in range(4):
        (a, b), (a0, b0) = mirrored._batch(step), plain._batch(step)
        for i in range(len(a)):
            same = torch.equal(a[i], a0[i]) and torch.equal(b[i], b0[i])
            both_mirrored = torch.equal(a[i], a0[i].flip(-1)) and torch.equal(b[i], b0[i].flip(-1))
            assert same or both_mirrored  # the same pairs, A and B mirrored alike
            flips += not same
    assert 0 < flips < 16


def test_a_run_saved_before_new_settings_resumes_with_what_it_trained_with(dataset, tmp_path):
    import dataclasses
    import json

    legacy = dataclasses.replace(SMALL, flip=False)
    FilterTrainer(tmp_path / "run", dataset, legacy, device="cpu", progress=False).train(max_steps=1)
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    for key in ("flip", "perceptual"):
        del saved["config"][key]  # as written before these settings existed
    (tmp_path / "run" / "run.json").write_text(json.dumps(saved))
    resumed = FilterTrainer(tmp_path / "run", dataset, None, device="cpu", progress=False)
    assert resumed.config.flip is False and resumed.config.perceptual == "lpips"
    assert resumed.state.step == 1


def test_a_classifier_gives_the_perceptual_term(dataset, tmp_path):
    import dataclasses
    import json

    from faceedit.attributes import AttributeNet, heads_from_factors

    torch.manual_seed(0)
    AttributeNet(heads_from_factors(), widths=(4, 8), feature_dim=8, input_resolution=16).save_pretrained(
        tmp_path / "labeler")
    config = dataclasses.replace(SMALL, perceptual=str(tmp_path / "labeler"), lambda_lpips=1.0, steps=2)
    trainer = FilterTrainer(tmp_path / "run", dataset, config, device="cpu", progress=False)
    flt = trainer.train()
    rows = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert all(row["loss_perceptual"] > 0 for row in rows)
    assert flt.metadata["perceptual"] == str(tmp_path / "labeler")


def test_learning_rate_decays_linearly_over_the_last_steps_and_is_applied(dataset, tmp_path):
    import dataclasses

    config = dataclasses.replace(SMALL, lr=1e-3, lr_decay_steps=4)  # steps=6: constant for 2, then 4 decaying
    trainer = FilterTrainer(tmp_path / "run", dataset, config, device="cpu", progress=False)
    assert [trainer.learning_rate(s) for s in range(7)] == pytest.approx([1e-3, 1e-3, 1e-3, 7.5e-4, 5e-4, 2.5e-4, 0])
    trainer.train(max_steps=4)
    assert trainer.opt_G.param_groups[0]["lr"] == pytest.approx(7.5e-4)  # the rate step 3 ran with
    assert trainer.opt_D.param_groups[0]["lr"] == pytest.approx(7.5e-4)
    constant = FilterTrainer(tmp_path / "c", dataset, SMALL, device="cpu", progress=False)
    assert {constant.learning_rate(s) for s in range(7)} == {SMALL.lr}


def test_a_finished_run_takes_more_steps_with_a_decay_exactly_as_if_started_with_it(dataset, tmp_path):
    import dataclasses

    decayed = dataclasses.replace(SMALL, steps=8, lr_decay_steps=2)
    FilterTrainer(tmp_path / "run", dataset, SMALL, device="cpu", progress=False).train()  # 6 constant steps
    resumed = FilterTrainer(tmp_path / "run", dataset, decayed, device="cpu", progress=False)
    assert resumed.state.step == 6
    resumed.train()
    scratch = FilterTrainer(tmp_path / "scratch", dataset, decayed, device="cpu", progress=False)
    scratch.train()
    for key, value in scratch.G.state_dict().items():
        assert torch.equal(value, resumed.G.state_dict()[key]), key
    with pytest.raises(ValueError, match="from step 5 on"):  # the decay would reach back into steps taken
        FilterTrainer(tmp_path / "run", dataset, dataclasses.replace(SMALL, steps=10, lr_decay_steps=6),
                      device="cpu", progress=False)


def test_cli_takes_the_decay(dataset, tmp_path):
    import json

    from faceedit.cli.main import main

    args = ["distill", "train", "--data", str(dataset), "--run-dir", str(tmp_path / "run"), "--no-progress",
            "--device", "cpu", "--ngf", "4", "--n-downsampling", "2", "--n-blocks", "1", "--batch-size", "4",
            "--held-out", "4", "--perceptual", "none", "--set", "ndf=4", "--set", "n_layers_d=2"]
    assert main([*args, "--steps", "2"]) == 0
    assert main([*args, "--steps", "4", "--lr-decay-steps", "2"]) == 0
    config = json.loads((tmp_path / "run" / "run.json").read_text())["config"]
    assert config["steps"] == 4 and config["lr_decay_steps"] == 2


def test_cli_takes_skips_and_the_filter_keeps_them(dataset, tmp_path):
    from faceedit.cli.main import main

    args = ["distill", "train", "--data", str(dataset), "--run-dir", str(tmp_path / "run"), "--no-progress",
            "--device", "cpu", "--ngf", "4", "--n-downsampling", "2", "--n-blocks", "1", "--batch-size", "4",
            "--held-out", "4", "--perceptual", "none", "--set", "ndf=4", "--set", "n_layers_d=2", "--steps", "2",
            "--skips", "--out", str(tmp_path / "filter")]
    assert main(args) == 0
    flt = Filter.load(tmp_path / "filter")
    assert flt.architecture["skips"] is True and flt.network.skip is not None


def test_a_new_run_starts_from_a_filters_weights(dataset, tmp_path):
    import dataclasses
    import json

    first = FilterTrainer(tmp_path / "first", dataset, SMALL, device="cpu", progress=False)
    first.train()
    first.filter().save_pretrained(tmp_path / "start")
    config = dataclasses.replace(SMALL, lambda_gan=0.0, lambda_fm=0.0, steps=2)
    tuned = FilterTrainer(tmp_path / "tuned", dataset, config, device="cpu", progress=False,
                          init_from=tmp_path / "start")
    for key, value in first.G.state_dict().items():
        assert torch.equal(value, tuned.G.state_dict()[key]), key  # step 0 holds the filter's weights
    again = FilterTrainer(tmp_path / "tuned", dataset, None, device="cpu", progress=False)  # before a checkpoint
    assert all(torch.equal(v, again.G.state_dict()[k]) for k, v in first.G.state_dict().items())
    flt = tuned.train()
    recorded = json.loads((tmp_path / "tuned" / "run.json").read_text())["init_from"]
    assert recorded["path"] == str(tmp_path / "start") and recorded["training_steps"] == 6
    assert flt.metadata["init_from"] == recorded
    with pytest.raises(ValueError, match="fine-tune it"):
        FilterTrainer(tmp_path / "wider", dataset, dataclasses.replace(SMALL, ngf=8), device="cpu", progress=False,
                      init_from=tmp_path / "start")


def test_a_filter_without_skips_starts_a_run_with_them_unchanged(dataset, tmp_path):
    import dataclasses

    first = FilterTrainer(tmp_path / "first", dataset, SMALL, device="cpu", progress=False)
    first.train()
    first.filter().save_pretrained(tmp_path / "start")
    config = dataclasses.replace(SMALL, skips=True, steps=2)
    assert config.architecture()["skips"] is True and "skips" not in SMALL.architecture()
    tuned = FilterTrainer(tmp_path / "tuned", dataset, config, device="cpu", progress=False,
                          init_from=tmp_path / "start")
    a, _ = tuned.held_out()
    with torch.no_grad():
        torch.testing.assert_close(tuned.G.eval()(a), first.G.eval()(a), rtol=0, atol=0)
    tuned.G.train()
    flt = tuned.train()
    assert any(conv.weight.abs().sum() > 0 for conv in tuned.G.skip)  # trained away from zero
    flt.save_pretrained(tmp_path / "skips")
    again = Filter.load(tmp_path / "skips")
    assert again.architecture["skips"] is True
    with torch.no_grad():
        torch.testing.assert_close(again.network(a), flt.network.eval()(a))
    with pytest.raises(ValueError, match="fine-tune it"):  # skips cannot be taken away
        FilterTrainer(tmp_path / "back", dataset, SMALL, device="cpu", progress=False, init_from=tmp_path / "skips")


def test_without_adversarial_terms_the_discriminator_is_neither_run_nor_trained(dataset, tmp_path):
    import dataclasses
    import json

    config = dataclasses.replace(SMALL, lambda_gan=0.0, lambda_fm=0.0, steps=2)
    generators = []
    for name, ndf in (("a", 4), ("b", 8)):  # two different discriminators
        trainer = FilterTrainer(tmp_path / name, dataset, dataclasses.replace(config, ndf=ndf), device="cpu",
                                progress=False)
        assert not trainer.uses_discriminator
        start = _weights(trainer.D)
        trainer.train()
        assert all(torch.equal(start[k], v) for k, v in trainer.D.state_dict().items())
        generators.append(trainer.G.state_dict())
    for key in generators[0]:
        assert torch.equal(generators[0][key], generators[1][key]), key  # L1 alone: D cannot matter
    rows = [json.loads(line) for line in (tmp_path / "a" / "stats.jsonl").read_text().splitlines()]
    assert "loss_D" not in rows[-1] and "loss_l1" in rows[-1]
    mixed = FilterTrainer(tmp_path / "gan", dataset, dataclasses.replace(SMALL, ndf=8, steps=2), device="cpu",
                          progress=False)
    assert mixed.uses_discriminator
    mixed.train()
    assert any(not torch.equal(generators[1][k], v) for k, v in mixed.G.state_dict().items())


def _first_conv(module):
    return next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))


def test_bf16_precision_on_cpu_runs_the_networks_in_bfloat16_and_resumes_exactly(dataset, tmp_path):
    import dataclasses

    config = dataclasses.replace(SMALL, precision="bf16")
    full = FilterTrainer(tmp_path / "full", dataset, config, device="cpu", progress=False)
    dtypes = []
    _first_conv(full.G).register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    full.train()
    assert torch.bfloat16 in dtypes  # training steps (samples and checkpoints' filters run in float32)
    part = FilterTrainer(tmp_path / "part", dataset, config, device="cpu", progress=False)
    part.train(max_steps=3)
    resumed = FilterTrainer(tmp_path / "part", dataset, None, device="cpu", progress=False)
    assert resumed.config.precision == "bf16"
    resumed.train()
    for key, value in full.G.state_dict().items():
        assert value.dtype == torch.float32  # autocast: the weights stay float32
        assert torch.equal(value, resumed.G.state_dict()[key]), key
    plain = FilterTrainer(tmp_path / "plain", dataset, SMALL, device="cpu", progress=False)
    plain_dtypes = []
    _first_conv(plain.G).register_forward_hook(lambda module, inputs, output: plain_dtypes.append(output.dtype))
    plain.train()
    assert set(plain_dtypes) == {torch.float32}
    assert any(not torch.equal(v, plain.G.state_dict()[k]) for k, v in full.G.state_dict().items())


def test_cli_takes_the_precision(dataset, tmp_path):
    import json

    from faceedit.cli.main import main

    assert main(["distill", "train", "--data", str(dataset), "--run-dir", str(tmp_path / "run"), "--no-progress",
                 "--device", "cpu", "--ngf", "4", "--n-downsampling", "2", "--n-blocks", "1", "--batch-size", "4",
                 "--held-out", "4", "--perceptual", "none", "--set", "ndf=4", "--set", "n_layers_d=2",
                 "--steps", "1", "--precision", "bf16"]) == 0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["precision"] == "bf16"


def test_cli_saves_a_checkpoint_when_killed(dataset, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "faceedit.cli.main", "distill", "train", "--data", str(dataset), "--run-dir",
         str(run), "--no-progress", "--device", "cpu", "--ngf", "4", "--n-downsampling", "2", "--n-blocks", "1",
         "--batch-size", "4", "--held-out", "4", "--perceptual", "none", "--set", "ndf=4", "--set", "n_layers_d=2",
         "--set", "checkpoint_every=100000", "--set", "log_every=1", "--steps", "100000"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ((run / "stats.jsonl").is_file() and (run / "stats.jsonl").read_text().count("\n") >= 3):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    assert "interrupted" in process.stderr.read()
    resumed = FilterTrainer(run, dataset, None, device="cpu", progress=False)
    assert resumed.state.step >= 3  # the steps taken before the kill were kept
