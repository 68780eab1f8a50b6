import json
import os
import signal
import subprocess
import time

import pytest
import torch

from faceedit.errors import CheckpointFormatError
from faceedit.training import Trainer, latest_checkpoint, list_checkpoints, preset

TINY = preset("tiny")  # 16x16, batch 4, checkpoint and samples every 2 steps, 4 steps in total


def _trainer(run_dir, config=TINY):
    return Trainer(run_dir, config, device="cpu", progress=False)


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_a_few_steps_have_finite_losses_and_move_the_weights(tmp_path):
    trainer = _trainer(tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    stats = [trainer.step() for _ in range(3)]
    for record in stats:
        assert all(torch.isfinite(torch.tensor(v)) for v in record.values())
    assert "r1" in stats[0] and "r1" not in stats[1]  # lazy R1 every r1_interval (2) steps
    assert any(not torch.equal(before[k], v) for k, v in trainer.G.state_dict().items())
    assert trainer.state.nimg == 3 * TINY.batch_size


def test_ema_generator_trails_the_generator(tmp_path):
    trainer = _trainer(tmp_path / "run")
    for _ in range(2):
        trainer.step()
    g, ema = trainer.G.synthesis.b4.conv1.weight, trainer.G_ema.synthesis.b4.conv1.weight
    assert not torch.equal(g, ema)
    assert torch.equal(trainer.G.mapping.w_avg, trainer.G_ema.mapping.w_avg)  # buffers are copied


def test_run_writes_checkpoints_samples_and_plots(tmp_path):
    run = tmp_path / "run"
    state = _trainer(run).train()
    assert state.nimg == int(TINY.total_kimg * 1000)
    for name in ("run.json", "stats.jsonl", "loss.png", "samples/reals.png", "samples/progress.png"):
        assert (run / name).is_file(), name
    assert len(list((run / "samples").glob("fakes-step*.png"))) >= 2
    checkpoint = latest_checkpoint(run)
    assert checkpoint is not None and checkpoint.name == f"step-{state.step:09d}"
    from faceedit import load_generator

    G = load_generator(checkpoint / "generator", device="cpu")
    assert G(torch.randn(2, G.z_dim)).shape == (2, 3, 16, 16)


def test_resume_gives_the_same_weights_as_one_uninterrupted_run(tmp_path):
    straight = _trainer(tmp_path / "straight")
    straight.train()
    first = _trainer(tmp_path / "split")
    first.train(max_steps=3)  # stops between snapshot ticks; train() checkpoints on the way out
    resumed = Trainer(tmp_path / "split", None, device="cpu", progress=False)
    assert resumed.state.step == 3
    resumed.train()
    assert resumed.state.step == straight.state.step
    for name in ("G", "D", "G_ema"):
        _assert_same_weights(getattr(straight, name), getattr(resumed, name))
    assert resumed.opt_D.state_dict()["state"].keys() == straight.opt_D.state_dict()["state"].keys()
    steps = [r["step"] for r in resumed.read_stats()]
    assert steps == sorted(set(steps))  # no duplicated log lines after the resume


def test_resume_refuses_a_different_configuration(tmp_path):
    _trainer(tmp_path / "run").train(max_steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        _trainer(tmp_path / "run", TINY.replace(batch_size=8))
    longer = _trainer(tmp_path / "run", TINY.replace(total_kimg=0.024))  # training longer is allowed
    assert longer.config.total_kimg == 0.024
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["total_kimg"] == 0.024


def test_old_checkpoints_are_pruned(tmp_path):
    run = tmp_path / "run"
    _trainer(run, TINY.replace(keep_checkpoints=1)).train()
    assert len(list_checkpoints(run)) == 1


def test_damaged_checkpoint_is_reported(tmp_path):
    run = tmp_path / "run"
    _trainer(run).train(max_steps=1)
    (latest_checkpoint(run) / "state.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointFormatError, match="resume from an older one"):
        _trainer(run)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job-control signals")
def test_time_suspended_with_sigstop_is_not_counted_as_training(tmp_path):
    trainer = Trainer(tmp_path, preset("tiny").replace(total_kimg=1.0), device="cpu", progress=False)
    step = trainer.step

    def suspended_step():  # another process resumes us after 1.5 s, as `kill -CONT` would
        subprocess.Popen(["sh", "-c", f"sleep 1.5; kill -CONT {os.getpid()}"])
        os.kill(os.getpid(), signal.SIGSTOP)
        return step()

    trainer.step = suspended_step
    start = time.monotonic()
    trainer.train(max_steps=1)
    assert time.monotonic() - start > 1.4
    assert trainer.state.train_seconds < 1.0
    assert signal.getsignal(signal.SIGCONT) is signal.SIG_DFL  # the handler is removed afterwards


def test_bf16_step_computes_the_fp32_losses_up_to_rounding(tmp_path):
    fp32 = _trainer(tmp_path / "fp32")
    bf16 = _trainer(tmp_path / "bf16", TINY.replace(precision="bf16"))
    torch.manual_seed(1)
    a = fp32.step()
    torch.manual_seed(1)
    b = bf16.step()
    for key in ("loss_G", "loss_D", "r1"):
        assert b[key] == pytest.approx(a[key], rel=0.05, abs=0.02), key
    assert b["loss_D"] != a["loss_D"]  # bfloat16 really ran: its rounding shows
    assert all(p.dtype == torch.float32 for p in bf16.G.parameters())  # weights stay float32


def test_a_run_may_switch_to_bf16_when_resumed(tmp_path):
    trainer = _trainer(tmp_path / "run")
    trainer.train(max_steps=2)
    resumed = _trainer(tmp_path / "run", TINY.replace(precision="bf16"))
    assert resumed.state.step == 2 and resumed.config.precision == "bf16"
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["precision"] == "bf16"


def test_channels_last_discriminator_computes_the_same_step(tmp_path):
    plain = Trainer(tmp_path / "plain", TINY, device="cpu", progress=False, channels_last=False)
    fast = Trainer(tmp_path / "fast", TINY, device="cpu", progress=False, channels_last=True)
    assert fast.D.b16.conv0.weight.is_contiguous(memory_format=torch.channels_last)
    torch.manual_seed(1)
    a = plain.step()
    torch.manual_seed(1)
    b = fast.step()
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-5), key
    fast.save()
    resumed = Trainer(tmp_path / "fast", TINY, device="cpu", progress=False, channels_last=False)
    _assert_same_weights(resumed.D, fast.D)
