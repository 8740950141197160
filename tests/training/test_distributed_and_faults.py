"""Training beyond one process and surviving faults: torchrun DDP (Gloo on CPU) equals one process, SIGKILL
then --resume continues bit-exactly, SIGTERM checkpoints and exits cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ronbun.data.synthetic import write_corpus

CLI = [sys.executable, "-m", "ronbun.cli.main"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    write_corpus(d, n_train=300, n_valid=10, n_test=10, seed=5)
    return d


def train_args(corpus: Path, out: Path, steps: int, *extra: str) -> list[str]:
    return [
        "mt", "train", "--train-src", str(corpus / "train.en"), "--train-tgt", str(corpus / "train.de"),
        "--vocab-size", "300", "--max-tokens", "600", "--valid-bleu-sentences", "0", "--preset", "tiny",
        "--set", "dropout=0.0", "--warmup", "4", "--lr", "2.0", "--max-steps", str(steps), "--eval-every", "0",
        "--log-every", "1", "--threads", "1", "--precision", "fp32", "--no-progress", "--out", str(out), *extra,
    ]  # fmt: skip


def train_losses(run: Path) -> dict[int, float]:
    losses: dict[int, float] = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["split"] == "train":
            losses[record["step"]] = record["loss"]  # after a resume the newest record of a step wins
    return losses


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(checkpoint / "model.safetensors"))


def test_two_process_torchrun_equals_one_process_with_the_same_global_batch(corpus, tmp_path):
    one = subprocess.run([*CLI, *train_args(corpus, tmp_path / "one", 3, "--save-every", "3")], env=ENV,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0, one.stderr[-2000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    two = subprocess.run([*torchrun, "-m", "ronbun.cli.main", *train_args(corpus, tmp_path / "two", 3, "--save-every", "3")],
                         env=ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    a = weights(tmp_path / "one" / "checkpoints" / "step_00000003")
    b = weights(tmp_path / "two" / "checkpoints" / "step_00000003")
    for name in a:
        x, y = without_key_bias(name, a[name]), without_key_bias(name, b[name])
        assert torch.allclose(x, y, atol=1e-4), name
    la, lb = train_losses(tmp_path / "one"), train_losses(tmp_path / "two")
    assert la.keys() == lb.keys() and all(abs(la[k] - lb[k]) < 1e-4 for k in la)


def without_key_bias(name: str, t: torch.Tensor, d: int = 64) -> torch.Tensor:
    """The key projection's bias has an exactly zero gradient (softmax is shift-invariant), so Adam turns
    rounding noise into full-size steps there in *both* runs; it carries no signal and is left out."""
    if name.endswith("qkv_proj.bias"):
        return torch.cat([t[:d], t[2 * d :]])
    if name.endswith("kv_proj.bias"):
        return t[d:]
    return t


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    start = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() - start > timeout:
            proc.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def test_sigkill_then_resume_gives_the_identical_loss_trajectory(corpus, tmp_path):
    steps = 10
    straight = subprocess.run([*CLI, *train_args(corpus, tmp_path / "straight", steps, "--save-every", "2")],
                              env=ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert straight.returncode == 0, straight.stderr[-2000:]
    run = tmp_path / "killed"
    proc = subprocess.Popen([*CLI, *train_args(corpus, run, steps, "--save-every", "2")], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(run / "checkpoints" / "step_00000004" / "trainer_state.json", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Simulate the worst moment too: a torn newer checkpoint and a half-written temporary directory.
    ckpts = sorted((run / "checkpoints").glob("step_*"))
    torn = run / "checkpoints" / "step_00000099"
    shutil.copytree(ckpts[-1], torn)
    (torn / "model.safetensors").write_bytes((torn / "model.safetensors").read_bytes()[:1000])
    (run / "checkpoints" / ".step_00000100.tmp-12345").mkdir()
    resumed = subprocess.run([*CLI, *train_args(corpus, run, steps, "--save-every", "2", "--resume")], env=ENV,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "skipping damaged checkpoint" in resumed.stderr and "step_00000099" in resumed.stderr
    assert train_losses(run) == train_losses(tmp_path / "straight"), "bit-exact loss trajectory after resume"
    final_a = weights(tmp_path / "straight" / "checkpoints" / f"step_{steps:08d}")
    final_b = weights(run / "checkpoints" / f"step_{steps:08d}")
    assert all(torch.equal(final_a[k], final_b[k]) for k in final_a)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_step_writes_a_checkpoint_and_exits_zero(corpus, tmp_path, sig):
    run = tmp_path / "stopped"
    proc = subprocess.Popen([*CLI, *train_args(corpus, run, 100_000, "--save-every", "3")], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(run / "checkpoints" / "step_00000003" / "trainer_state.json", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "--resume" in err and sig.name in err
    last = sorted((run / "checkpoints").glob("step_*"))[-1]
    state = json.loads((last / "trainer_state.json").read_text())
    assert state["step"] >= 3 and (last / "optimizer.safetensors").is_file()
