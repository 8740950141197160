"""``ronbun experiment table3``: Table 3's rows keep the paper's relationships at our scale, the paper's
orderings are computed from the numbers (not written in), and a minuscule run writes the JSON, the Markdown
table and the figure, and is not trained twice."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ronbun.experiments import table3
from ronbun.experiments.table3 import (
    PAPER_BASE,
    ROWS,
    SCALES,
    Scale,
    Table3Config,
    orderings,
    row_settings,
    run_table3,
)

PAPER = {row.name: row for row in ROWS}


# -- the row table ---------------------------------------------------------------------------------------
def test_the_table_has_the_papers_rows_and_numbers():
    assert [r.group for r in ROWS].count("A") == 4 and [r.group for r in ROWS].count("C") == 7
    assert len(ROWS) == 19
    assert (PAPER["base"].ppl, PAPER["base"].bleu, PAPER["base"].params_m) == (4.92, 25.8, 65)
    assert (PAPER["A-h1"].ppl, PAPER["A-h1"].bleu) == (5.29, 24.9)
    assert (PAPER["C-d1024"].ppl, PAPER["C-d1024"].params_m) == (4.66, 168)


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_row_a_keeps_h_times_dk_equal_to_d_model(scale: str):
    for row in (r for r in ROWS if r.group in ("base", "A")):
        paper = {**PAPER_BASE, **row.change}
        ours = row_settings(row, SCALES[scale])
        assert paper["n_heads"] * paper["d_k"] == paper["d_model"] == paper["n_heads"] * paper["d_v"]
        assert ours["n_heads"] * ours["d_k"] == ours["d_model"] == ours["n_heads"] * ours["d_v"]
        assert ours["n_heads"] == paper["n_heads"]  # the paper's head counts, not scaled


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_row_b_shrinks_dk_alone_with_eight_heads(scale: str):
    base = row_settings(PAPER["base"], SCALES[scale])
    for name, fraction in (("B-dk16", 4), ("B-dk32", 2)):
        ours = row_settings(PAPER[name], SCALES[scale])
        assert ours["d_k"] * fraction == base["d_k"]  # a quarter and a half, as 16 and 32 are of 64
        assert {k: v for k, v in ours.items() if k != "d_k"} == {k: v for k, v in base.items() if k != "d_k"}


def test_row_c_scales_depth_and_widths_by_the_papers_ratios():
    scale = Scale("t", d_model=128, d_ff=512, layers=3, updates=1, warmup=1, lr=1.0, dataset="builtin",
                  vocab_size=300, max_tokens=100, bleu_sentences=0)  # fmt: skip
    ours = {r.name: row_settings(r, scale) for r in ROWS}
    assert [ours[n]["layers"] for n in ("C-N2", "C-N4", "base", "C-N8")] == [1, 2, 3, 4]  # 2, 4, 6, 8 of 6
    assert (ours["C-d256"]["d_model"], ours["C-d256"]["d_k"]) == (64, 8)  # half the width, h = 8
    assert (ours["C-d1024"]["d_model"], ours["C-d1024"]["d_k"]) == (256, 32)
    assert (ours["C-dff1024"]["d_ff"], ours["C-dff4096"]["d_ff"]) == (256, 1024)
    assert ours["E-learned"] == {**ours["base"], "positional": "learned"}
    assert ours["D-ls0.2"] == {**ours["base"], "label_smoothing": 0.2}


def test_a_base_that_cannot_carry_the_ratios_is_refused():
    scale = dataclasses_replace(SCALES["quick"], d_model=48)
    with pytest.raises(ValueError, match="not a whole number"):
        row_settings(PAPER["A-h32"], scale)


def dataclasses_replace(scale: Scale, **changes) -> Scale:
    import dataclasses

    return dataclasses.replace(scale, **changes)


# -- the orderings -----------------------------------------------------------------------------------------
def paper_numbers() -> tuple[dict[str, float], dict[str, float]]:
    return {r.name: r.ppl for r in ROWS}, {r.name: r.bleu for r in ROWS}


def by_claim(records: list[dict]) -> dict[str, dict]:
    return {r["claim"]: r for r in records}


def test_on_the_papers_numbers_every_perplexity_ordering_holds_and_bleu_breaks_only_at_n8():
    found = by_claim(orderings(*paper_numbers()))
    assert all(r["ppl"] is True for r in found.values())
    assert {name for name, r in found.items() if r["bleu"] is not True} == {"bigger_is_better"}
    assert "base 25.80 < C-N8 25.50 ✗" in found["bigger_is_better"]["evidence"]


def test_the_orderings_follow_the_numbers_they_are_given():
    ppl, bleu = paper_numbers()
    ppl["A-h1"], bleu["A-h1"] = 4.0, 30.0  # a single head beats eight
    ppl["D-drop0.0"] = 4.5  # no dropout: better perplexity, BLEU still worse
    ppl["E-learned"] = 6.0  # learned positions far from sinusoids (+22%, more than most rows differ)
    found = by_claim(orderings(ppl, bleu))
    assert (found["single_head"]["ppl"], found["single_head"]["bleu"]) == (False, False)
    assert (found["dropout_helps"]["ppl"], found["dropout_helps"]["bleu"]) == (False, True)
    assert found["learned_positions"]["ppl"] is False and found["learned_positions"]["bleu"] is True
    assert found["smaller_dk_hurts"]["ppl"] is True


def test_an_ordering_whose_rows_were_not_measured_is_neither_true_nor_false():
    found = by_claim(orderings({"base": 10.0, "A-h1": 11.0}, {"base": 20.0, "A-h1": None}))
    assert (found["single_head"]["ppl"], found["single_head"]["bleu"]) == (True, None)
    assert found["bigger_is_better"]["ppl"] is None
    assert found["learned_positions"]["ppl"] is None


# -- a minuscule run ---------------------------------------------------------------------------------------
TINY = Scale("quick", d_model=32, d_ff=128, layers=3, updates=3, warmup=2, lr=1.0, dataset="builtin",
             vocab_size=300, max_tokens=200, bleu_sentences=4)  # fmt: skip


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The quick scale shrunk to 3 updates of a 32-wide model, on 40 generated training pairs."""
    from ronbun.data.synthetic import generate_corpus

    monkeypatch.setitem(table3.SCALES, "quick", TINY)
    files = {}
    for split, (en, de) in generate_corpus(n_train=40, n_valid=8, n_test=1, seed=0).items():
        for lang, lines in (("src", en), ("tgt", de)):
            path = tmp_path / f"{split}.{lang}"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            files[f"{split}_{lang}"] = str(path)
    return {k: v for k, v in files.items() if not k.startswith("test")}


def test_a_tiny_table_writes_the_json_the_markdown_and_the_figure(tmp_path: Path, tiny: dict[str, str]):
    out = tmp_path / "table3"
    lines: list[str] = []
    summary = run_table3(
        Table3Config(out=str(out), quick=True, rows="A-h1", threads=1), tiny, log=lines.append
    )
    saved = json.loads((out / "table3.json").read_text(encoding="utf-8"))
    assert [r["row"] for r in saved["rows"]] == ["base", "A-h1"]  # base is always measured
    base, single = saved["rows"]
    for row in saved["rows"]:
        assert row["updates"] == 3 and row["stop_reason"] == "max_steps"
        assert math.isfinite(row["ppl"]) and row["ppl"] > 1 and 0 <= row["bleu"] <= 100
    assert single["params_m"] == base["params_m"]  # (A) varies h at constant h·d_k: the same parameters
    assert single["change"] == "h=1 d_k=32 d_v=32" and single["paper_change"] == "h=1 d_k=512 d_v=512"
    assert single["delta_ppl_pct"] == pytest.approx(100 * (single["ppl"] / base["ppl"] - 1))
    assert single["paper"]["delta_bleu"] == pytest.approx(24.9 - 25.8)
    claims = by_claim(saved["orderings"])
    assert claims["single_head"]["ppl"] == (single["ppl"] > base["ppl"])
    assert claims["bigger_is_better"]["ppl"] is None
    assert saved == json.loads(json.dumps(summary, ensure_ascii=False))
    markdown = (out / "table3.md").read_text(encoding="utf-8")
    assert "| A-h1 | h=1 d_k=32 d_v=32 | h=1 d_k=512 d_v=512 |" in markdown
    assert "single-head attention is worse than 8 heads" in markdown
    assert (out / "table3.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(line.lstrip().startswith("A-h1") for text in lines for line in text.splitlines())


def test_measured_rows_are_not_trained_again(tmp_path: Path, tiny: dict[str, str], monkeypatch):
    cfg = Table3Config(out=str(tmp_path / "t3"), quick=True, rows="base", threads=1)
    first = run_table3(cfg, tiny, log=lambda _: None)

    def no_training(*args, **kwargs):
        raise AssertionError("a measured row was trained again")

    monkeypatch.setattr(table3, "train_row", no_training)
    lines: list[str] = []
    again = run_table3(cfg, tiny, log=lines.append)
    assert again["rows"] == first["rows"]
    assert any("measured before" in line for line in lines)
    with pytest.raises(ValueError, match="another recipe"):  # another budget is another table
        run_table3(Table3Config(out=cfg.out, quick=True, rows="base", updates=4), tiny, log=lambda _: None)


def test_the_schedule_and_rate_reach_every_rows_trainer(tmp_path: Path, tiny: dict[str, str], monkeypatch):
    """``--schedule linear --lr 0.01``: every row's trainer decays a peak rate of 0.01 to 0 at its last update
    (the rate is recorded per update in the row's metrics), and the table says so."""
    cfg = Table3Config(
        out=str(tmp_path / "t3"), quick=True, rows="base", threads=1, schedule="linear", lr=0.01
    )
    assert cfg.scale().schedule == "linear" and cfg.scale().lr == 0.01
    assert Table3Config(quick=True).scale().schedule == table3.SCALES["quick"].schedule  # the scale's default
    summary = run_table3(cfg, tiny, log=lambda _: None)
    assert summary["scale"]["schedule"] == "linear"
    rates = [
        json.loads(line)["lr"]
        for line in (tmp_path / "t3" / "rows" / "base" / "metrics.jsonl").read_text().splitlines()
        if '"lr"' in line
    ]
    assert rates and max(rates) <= 0.01
    assert "decaying linearly to 0" in (tmp_path / "t3" / "table3.md").read_text(encoding="utf-8")


def test_unknown_rows_are_named_before_any_work(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown Table 3 row.*A-h3"):
        run_table3(Table3Config(out=str(tmp_path / "t"), rows="A-h3"))
    assert not (tmp_path / "t").exists()
