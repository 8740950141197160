"""``ronbun viz …``: every picture command writes a non-empty image; the data behind the pictures is right
(§3.5 PE = ``sinusoid_table``, Eq. 3's shape, Table 1's path lengths, resumed-run curves)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ronbun.cli.main import main
from ronbun.data.synthetic import generate_corpus
from ronbun.inspection import attention_view, averaged_alignment, load_inspectable
from ronbun.models import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.nn.embeddings import sinusoid_table
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import save_checkpoint
from ronbun.training.schedules import noam
from ronbun.viz.attention import scaling_data
from ronbun.viz.complexity import LAYERS, measure, plot_complexity, read_results, write_results
from ronbun.viz.curves import eq3_reference, plot_curves, read_curves
from ronbun.viz.positions import plot_positions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An untrained tiny Transformer and GPT sharing a BPE trained on the built-in corpus."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("ckpt")
    en, de = generate_corpus(n_train=300, n_valid=5, n_test=5)["train"]
    tok = TextTokenizer.train(en + de, 300)
    tok.save(root / "tokenizer.json")
    mt = Transformer(
        TransformerConfig.preset("tiny", vocab_size=tok.vocab_size, max_positions=32)
    )  # short outputs
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=tok.vocab_size))
    run = root / "gpt-run"
    save_checkpoint(run / "checkpoints" / "step_00000010", gpt, tokenizer_file=root / "tokenizer.json")
    write_metrics(run / "metrics.jsonl", [train(s, 5.0 - s / 10, 1e-3) for s in (2, 4, 6, 8, 10)])
    return {
        "mt": save_checkpoint(root / "mt", mt, tokenizer_file=root / "tokenizer.json"),
        "gpt": run,
    }


def train(step: int, loss: float, lr: float) -> dict:
    return {
        "step": step,
        "split": "train",
        "loss": loss,
        "ppl": math.exp(loss),
        "lr": lr,
        "tokens_per_s": 1e3,
    }


def valid(step: int, loss: float, bleu: float) -> dict:
    return {
        "step": step,
        "split": "valid",
        "valid_loss": loss,
        "valid_ppl": math.exp(loss),
        "valid_bleu": bleu,
    }


def write_metrics(path: Path, records: list[dict], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


# -- §3.5 positional encoding ------------------------------------------------------------------------------
def test_positions_figure_draws_exactly_the_sinusoid_table(tmp_path: Path) -> None:
    fig = plot_positions(tmp_path / "pe.png", d_model=64, length=30)
    assert is_png(fig.path)
    table = sinusoid_table(30, 64).numpy()
    np.testing.assert_array_equal(fig.table, table)  # what the image shows is the §3.5 table itself
    np.testing.assert_allclose(fig.similarity, table @ table.T, rtol=1e-6)
    # the dot product depends on the offset only (Toeplitz), and peaks on the diagonal at d_model/2
    np.testing.assert_allclose(np.diag(fig.similarity, 3), fig.similarity[0, 3], rtol=1e-5)
    np.testing.assert_allclose(np.diag(fig.similarity), 32.0, rtol=1e-5)


def test_viz_positions_command_writes_png_and_svg(tmp_path: Path) -> None:
    assert (
        main(["viz", "positions", "--d-model", "32", "--length", "16", "--out", str(tmp_path / "pe.png")])
        == 0
    )
    assert is_png(tmp_path / "pe.png")
    assert (
        main(["viz", "positions", "--d-model", "32", "--length", "16", "--out", str(tmp_path / "pe.svg")])
        == 0
    )
    assert (tmp_path / "pe.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert (
        main(["viz", "positions", "--out", str(tmp_path / "pe.txt")]) == 2
    )  # unknown format: one line, status 2


# -- training curves ---------------------------------------------------------------------------------------
def test_curves_of_a_resumed_run_keep_the_later_records(tmp_path: Path) -> None:
    first = [train(s, 9.0, 1e-4 * s) for s in (10, 20, 30, 40, 50)] + [
        valid(30, 8.0, 1.0),
        valid(50, 7.0, 2.0),
    ]
    first.sort(key=lambda r: (r["step"], r["split"] == "valid"))
    resumed = [train(30, 3.0, 3e-3), train(40, 2.0, 4e-3), valid(40, 2.5, 20.0)]
    resumed += [train(40, 1.5, 4e-3), valid(40, 2.4, 21.0)]  # resumed again, from step 30's checkpoint
    path = write_metrics(tmp_path / "run" / "metrics.jsonl", first + resumed, tail='{"step": 60, "spl')
    curves = read_curves(tmp_path / "run")
    assert curves.train["step"] == [10, 20, 30, 40]
    assert curves.train["loss"] == [9.0, 9.0, 3.0, 1.5]  # resumed values; the last record for step 40 wins
    assert curves.valid["step"] == [
        40
    ]  # the abandoned continuation's step-30 and step-50 evaluations are gone
    assert curves.valid["valid_bleu"] == [21.0]
    assert curves.resumes == 2 and curves.skipped_lines == 1  # the torn last line of a crash is skipped
    out = plot_curves(path, tmp_path / "curves.png")
    assert is_png(out)
    assert main(["viz", "curves", str(tmp_path / "run"), "--out", str(tmp_path / "c2.png")]) == 0
    assert is_png(tmp_path / "c2.png")


def test_curves_of_a_language_model_run_without_bleu(tmp_path: Path) -> None:
    records = [train(s, 6.0 - s / 100, 1e-3) for s in range(20, 201, 20)]
    records += [
        {"step": s, "split": "valid", "valid_loss": 5.0, "valid_ppl": 148.0, "valid_tokens": 1e3}
        for s in (100, 200)
    ]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run_config.json").write_text('{"trainer": {"schedule": "cosine", "warmup": 20}}')
    path = write_metrics(tmp_path / "run" / "metrics.jsonl", records)
    assert read_curves(path).series("valid", "valid_bleu")[0].size == 0
    assert is_png(plot_curves(tmp_path / "run", tmp_path / "lm.png"))


def test_eq3_reference_recovers_the_schedule() -> None:
    steps = np.arange(1, 2001, 20, dtype=float)
    lrs = np.array([noam(int(s), 512, warmup=400) for s in steps])
    curve, warmup, scale = eq3_reference(steps, lrs, 400)
    assert warmup == 400 and scale == pytest.approx(512**-0.5)
    np.testing.assert_allclose(curve, lrs, rtol=1e-9)
    assert eq3_reference(steps, lrs, None)[1] in range(381, 421)  # warm-up found at the peak


def test_missing_metrics_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["viz", "curves", str(tmp_path), "--out", str(tmp_path / "c.png")]) == 2
    assert "no training log" in capsys.readouterr().err


# -- attention --------------------------------------------------------------------------------------------
def test_attention_view_shapes_and_averaged_alignment(checkpoints: dict[str, Path]) -> None:
    obj = load_inspectable(checkpoints["mt"])
    view = attention_view(obj, "The old man sees the dog.", beam=1)
    n_src = len(obj.tokenizer.encode("The old man sees the dog."))
    n_tgt = len(view.ids["target"]) + 1
    assert [tuple(w.shape) for w in view.maps["encoder"]] == [(4, n_src, n_src)] * 2
    assert [tuple(w.shape) for w in view.maps["decoder"]] == [(4, n_tgt, n_tgt)] * 2
    assert [tuple(w.shape) for w in view.maps["cross"]] == [(4, n_tgt, n_src)] * 2
    assert [len(x) for x in view.axes["cross"]] == [n_tgt, n_src]
    avg = averaged_alignment(view.maps["cross"])
    torch.testing.assert_close(avg, torch.stack(view.maps["cross"]).mean(dim=(0, 1)))
    torch.testing.assert_close(avg.sum(-1), torch.ones(n_tgt))  # still a distribution per target token
    torch.testing.assert_close(averaged_alignment(view.maps["cross"], [1]), view.maps["cross"][1].mean(0))


@pytest.mark.parametrize(
    "flags",
    [
        ["--kind", "cross"],
        ["--kind", "encoder", "--all-heads", "--layer", "0"],
        ["--kind", "decoder", "--layer", "-1", "--head", "3"],
        ["--kind", "cross", "--average", "--layer", "1"],
    ],
)
def test_viz_attention_command(checkpoints: dict[str, Path], tmp_path: Path, flags: list[str]) -> None:
    out = tmp_path / "a.png"
    args = ["viz", "attention", str(checkpoints["mt"]), "-s", "The dog sees the cat.", "--beam", "1"]
    assert main([*args, *flags, "--out", str(out)]) == 0
    assert is_png(out)


def test_viz_attention_gpt_and_bad_requests(
    checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.png"
    assert (
        main(["viz", "attention", str(checkpoints["gpt"]), "-s", "The dog", "--all-heads", "--out", str(out)])
        == 0
    )
    assert is_png(out)
    assert (
        main(["viz", "attention", str(checkpoints["gpt"]), "-s", "x", "--kind", "cross", "--out", str(out)])
        == 2
    )
    assert "only masked self-attention" in capsys.readouterr().err
    assert (
        main(["viz", "attention", str(checkpoints["mt"]), "-s", "x", "--head", "9", "--out", str(out)]) == 2
    )
    assert "head 9 does not exist" in capsys.readouterr().err


def test_scaling_data_shows_the_softmax_saturating() -> None:
    data = scaling_data(d_ks=(4, 256), samples=64)
    assert (
        data["entropy_unscaled"][1] < 0.5 * data["entropy_unscaled"][0]
    )  # unscaled: near one-hot at d_k=256
    assert abs(data["entropy_scaled"][1] - data["entropy_scaled"][0]) < 0.3  # Eq. 1: about constant
    assert data["std_unscaled"][1] == pytest.approx(16.0, rel=0.15)  # q·k has variance d_k


# -- Table 1 ------------------------------------------------------------------------------------------------
def test_layer_complexity_measures_and_plots(tmp_path: Path) -> None:
    data = measure((8, 16), (8, 16), d_fixed=8, n_fixed=8, repeats=1, batch=1, path_n=(4, 8, 16))
    json_path, csv_path = write_results(data, tmp_path / "lc.json")
    assert csv_path.read_text(encoding="utf-8").startswith("sweep,layer,n,d")
    rows = read_results(csv_path)["rows"]
    assert {r["layer"] for r in rows} == set(LAYERS)
    assert all(r["time_ms"] > 0 and r["activation_bytes"] > 0 for r in rows)
    paths = {(r["layer"], r["n"]): r["path_length"] for r in data["path_lengths"]}
    for n in (4, 8, 16):
        assert paths[("self_attention", n)] == 1  # O(1)
        assert paths[("recurrent", n)] == n - 1  # O(n)
        assert paths[("convolutional", n)] == math.ceil((n - 1) / 2)  # contiguous, k=3: O(n/k)
        assert paths[("convolutional_dilated", n)] == math.ceil(math.log(n, 3) - 1e-9)  # O(log_k n)
        assert paths[("restricted_self_attention", n)] == math.ceil((n - 1) / 7)  # r = 15: O(n/r)
    big = next(r for r in rows if r["sweep"] == "n" and r["n"] == 16 and r["layer"] == "self_attention")
    small = next(r for r in rows if r["sweep"] == "n" and r["n"] == 8 and r["layer"] == "self_attention")
    assert big["activation_bytes"] > 2 * small["activation_bytes"]  # Eq. 1 stores the n×n weights
    assert is_png(plot_complexity(json_path, tmp_path / "t1.png"))
    assert main(["viz", "complexity", str(json_path), "--out", str(tmp_path / "t2.png")]) == 0
    assert is_png(tmp_path / "t2.png")


def test_benchmark_script_writes_json_and_csv(tmp_path: Path) -> None:
    from benchmarks.layer_complexity import main as bench

    out = tmp_path / "bench.json"
    args = ["--out", str(out), "--n", "8", "--d", "8", "--d-fixed", "8", "--n-fixed", "8", "--repeats", "1"]
    assert bench([*args, "--layers", "self_attention,convolutional", "--quiet"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {r["layer"] for r in data["rows"]} == {"self_attention", "convolutional"}
    assert out.with_suffix(".csv").is_file()


# -- the one command that regenerates the docs' figures ------------------------------------------------------
def test_viz_figures_regenerates_everything(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    run = checkpoints["mt"].parent / "mt-run"
    write_metrics(run / "metrics.jsonl", [train(s, 6.0 - s / 20, noam(s, 64, 40)) for s in range(5, 80, 5)])
    lc = tmp_path / "figs" / "layer_complexity.json"
    write_results(measure((8, 16), (8, 16), d_fixed=8, n_fixed=8, repeats=1, batch=1, path_n=(4, 8)), lc)
    args = ["viz", "figures", "--out", str(tmp_path / "figs"), "--checkpoint", str(checkpoints["mt"])]
    args += [
        "--appendix-checkpoint",
        str(tmp_path / "none"),
    ]  # tests/viz/test_appendix_attention.py draws them
    assert main([*args, "--run", str(run), "--gpt-run", str(checkpoints["gpt"]), "--skip-complexity"]) == 0
    expected = {
        "positional_encoding.png",
        "attention_scaling.png",
        "gpt_input_transformations.png",
        "table1_complexity.png",
        "table3.png",  # from the committed results/table3.json
        "gpt1_figure2.png",  # from the committed results/figure2.json
        "gpt1_table5.png",  # from the committed results/table5.json
        "attention_kinds.png",
        "attention_cross_one_head.png",
        "attention_encoder_heads_layer0.png",
        "attention_alignment_average.png",
        "ffn_activity.png",
        "embedding_norms.png",
        "training_curves.png",
        "gpt_pretraining_curves.png",
        "gpt_self_attention_heads.png",
        "gpt_zeroshot_winograd.png",
    }
    assert expected <= {p.name for p in (tmp_path / "figs").iterdir()}
    assert all(is_png(tmp_path / "figs" / name) for name in expected)


def test_viz_figures_without_a_checkpoint_skips_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no runs/demo/averaged, no GPT run here
    (tmp_path / "figs").mkdir()
    write_results(
        measure((8,), (8,), d_fixed=8, n_fixed=8, repeats=1, batch=1, path_n=(4,)),
        tmp_path / "figs" / "layer_complexity.json",
    )
    assert main(["viz", "figures", "--out", "figs", "--skip-complexity"]) == 0
    err = capsys.readouterr().err
    assert "no checkpoint at runs/demo/averaged" in err and "make demo" in err
    assert "table3.png: no results/table3.json" in err
    assert "gpt1_figure2.png: no results/figure2.json" in err
    assert "gpt1_table5.png: no results/table5.json" in err
    assert (
        "appendix figures: no checkpoint at runs/multi30k/averaged" in err
        and "experiments/multi30k.sh" in err
    )
    assert is_png(tmp_path / "figs" / "positional_encoding.png")


def test_figure2_left_panel_draws_the_seed_spread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A point measured over several seeds gets its ± 1 sd; a one-seed point has no spread to draw."""
    from ronbun.viz import ablations

    def point(layers: int | None, mean: float, std: float, n: int) -> dict:
        return {"layers": layers, "score": {"mean": mean, "std": std, "n": n}}

    points = [point(None, 79.9, 0.4, 3), point(0, 81.2, 0.6, 3), point(1, 80.7, 0.0, 1)]
    summary = {
        "left": {"tasks": [{"task": "sst2", "label": "SST-2", "metric": "accuracy", "points": points}]}
    }
    assert is_png(ablations.plot_figure2_summary(summary, tmp_path / "fig2.png"))
    seen: dict = {}
    monkeypatch.setattr(ablations, "plot_figure2", lambda *args, **kw: seen.update(args=args, **kw))
    ablations.plot_figure2_summary(summary, tmp_path / "unused.png")
    assert seen["args"][0] == {"SST-2 (accuracy)": ([0, 1], [81.2, 80.7], 79.9)}
    assert seen["spread"] == {"SST-2 (accuracy)": ([0.6, None], 0.4)}
    assert "mean ± 1 sd over seeds" in seen["title"]
