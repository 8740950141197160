"""``ronbun experiment figure2``: the left panel's runs transfer exactly the embeddings and the first k blocks
(k = 0 is "embeddings only"), the right panel scores every kept checkpoint with the four §5 heuristics, and a
tiny run writes the JSON, the Markdown and both panels, and is not measured twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ronbun.experiments import figure2, finetuning
from ronbun.experiments.figure2 import Figure2Config, heuristics, normalised, run_figure2, transfer_units
from ronbun.gpt.finetune import FineTuneConfig, FineTuneTask
from ronbun.training.checkpoint import load_checkpoint


def config(tiny_gpt1, out: Path, **over) -> Figure2Config:
    return Figure2Config(
        pretrain_run=str(tiny_gpt1["run"]),
        data_dir=str(tiny_gpt1["glue"]),
        out=str(out),
        quick=True,
        max_updates=2,
        threads=1,
        precision="fp32",
        **over,
    )


# -- left: layers transferred -----------------------------------------------------------------------------
def test_one_run_per_number_of_layers_and_one_with_nothing_transferred(tiny_gpt1, tmp_path):
    units = transfer_units(config(tiny_gpt1, tmp_path), {"sst2": {"updates": 3}}, "CKPT", n_layers=2)
    assert [u.key for u in units] == [
        "transfer/sst2/none/seed0",
        "transfer/sst2/k0/seed0",
        "transfer/sst2/k1/seed0",
        "transfer/sst2/k2/seed0",
    ]
    assert units[0].data["from_scratch"] is True and "n_transfer" not in units[0].data
    assert [u.data.get("n_transfer") for u in units[1:]] == [0, 1, 2]
    assert all(u.data["aux_lm"] == 0.5 and u.trainer["max_steps"] == 3 for u in units)  # the full method


@pytest.mark.parametrize("k", [None, 0, 1, 2])
def test_a_run_starts_from_the_embeddings_and_exactly_k_pretrained_blocks(tiny_gpt1, tmp_path, k):
    init = str(tiny_gpt1["init"])
    units = transfer_units(config(tiny_gpt1, tmp_path), {"sst2": {"updates": 1}}, init, n_layers=2)
    unit = next(
        u for u in units if u.data.get("n_transfer") == k and (k is not None or u.data.get("from_scratch"))
    )
    task = FineTuneTask(FineTuneConfig(**unit.data), out_dir=tmp_path / "run", seed=0, log=lambda _: None)
    source = load_checkpoint(init, expect="gpt").model.state_dict()
    model = task.model.state_dict()
    vocab = source["embed.tokens.weight"].shape[0]  # the fine-tuned model appends ⟨s⟩, $, ⟨e⟩ after it
    embeddings_equal = torch.equal(model["embed.tokens.weight"][:vocab], source["embed.tokens.weight"])
    assert embeddings_equal == (k is not None)  # k = 0: the embeddings alone
    assert torch.equal(model["embed.positions.weight"], source["embed.positions.weight"]) == (k is not None)
    blocks = [name for name in source if name.startswith("blocks.layers.")]
    assert blocks
    for name in blocks:
        layer = int(name.split(".")[2])
        transferred = k is not None and layer < k
        if transferred:
            assert torch.equal(model[name], source[name]), name
        elif source[name].dim() >= 2:  # random matrices differ; LayerNorm and bias initialisations coincide
            assert not torch.equal(model[name], source[name]), name


# -- right: zero-shot over pre-training ------------------------------------------------------------------
def test_the_four_heuristics_and_their_normalisation(tiny_gpt1, tmp_path):
    cfg = config(tiny_gpt1, tmp_path)
    assert [h.task for h in heuristics(cfg)] == ["sst2", "winograd", "cola"]  # no RACE, no Story Cloze given
    with_sc = heuristics(config(tiny_gpt1, tmp_path, story_cloze_dir=str(tiny_gpt1["story_cloze"])))
    assert with_sc[-1].task == "story_cloze" and "in place of RACE" in with_sc[-1].label
    with_race = heuristics(config(tiny_gpt1, tmp_path, race_dir="RACE", story_cloze_dir="SC"))
    assert with_race[-1].task == "race"
    assert [h.metric for h in with_race] == ["accuracy", "accuracy", "mcc", "accuracy"]
    assert normalised(0.5, "sst2") == 0.0 and normalised(1.0, "sst2") == 1.0
    assert normalised(0.25, "race") == 0.0 and normalised(0.625, "race") == pytest.approx(0.5)
    assert normalised(0.3, "cola") == pytest.approx(0.3)  # MCC: chance 0


# -- a tiny run --------------------------------------------------------------------------------------------
def tiny_run(tiny_gpt1, out: Path, **over) -> Figure2Config:
    return config(
        tiny_gpt1,
        out,
        **{
            "story_cloze_dir": str(tiny_gpt1["story_cloze"]),
            "zeroshot_limit": 4,
            "threshold_examples": 6,
            **over,
        },
    )


def test_a_tiny_figure_writes_the_json_the_markdown_and_both_panels(tiny_gpt1, tmp_path):
    out = tmp_path / "f2"
    summary = run_figure2(tiny_run(tiny_gpt1, out), log=lambda _: None)
    saved = json.loads((out / "figure2.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(summary, ensure_ascii=False))
    left = saved["left"]
    assert left["n_layers"] == 2 and left["init"].endswith("step_00000002")
    assert [t["task"] for t in left["tasks"]] == ["sst2", "rte"]
    assert [t["label"] for t in left["tasks"]] == ["SST-2", "RTE"]  # the figure's names travel in the JSON
    for t in left["tasks"]:
        assert [p["layers"] for p in t["points"]] == [None, 0, 1, 2]
        assert t["updates"] == 2 and all(p["updates"] == [2] for p in t["points"])
        assert all(0 <= p["score"]["mean"] <= 100 for p in t["points"])
    assert left["tasks"][0]["points"][1]["label"] == "embeddings only"
    right = saved["right"]
    assert [c["step"] for c in right["checkpoints"]] == [1, 2]  # every kept checkpoint, oldest first
    names = [h["name"] for h in right["heuristics"]]
    assert names == ["sentiment", "winograd", "acceptability", "question_answering"]
    for c in right["checkpoints"]:
        assert set(c["scores"]) == set(names)
        sst2 = c["scores"]["sentiment"]
        assert sst2["n"] == 4 and sst2["normalised"] == pytest.approx((sst2["value"] - 0.5) / 0.5)
        assert c["scores"]["question_answering"]["task"] == "story_cloze"
    markdown = (out / "figure2.md").read_text(encoding="utf-8")
    assert "| 0: embeddings only |" in markdown and "| none: nothing (random initialisation) |" in markdown
    assert "sentiment (SST-2 dev): accuracy" in markdown
    assert (out / "figure2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "zeroshot" / "step_00000001.json").is_file()


def test_measured_units_are_not_measured_again(tiny_gpt1, tmp_path, monkeypatch):
    cfg = tiny_run(tiny_gpt1, tmp_path / "f2", tasks="rte")
    first = run_figure2(cfg, log=lambda _: None)

    def no_work(*args, **kwargs):
        raise AssertionError("a measured unit was measured again")

    monkeypatch.setattr(finetuning, "finetune_unit", no_work)
    monkeypatch.setattr(figure2, "score_checkpoint", no_work)
    again = run_figure2(cfg, log=lambda _: None)
    assert again["left"] == first["left"] and again["right"] == first["right"]
    with pytest.raises(ValueError, match="another recipe"):  # another subset is another curve
        run_figure2(tiny_run(tiny_gpt1, tmp_path / "f2", tasks="rte", panel="right", zeroshot_limit=5))


def test_one_panel_alone(tiny_gpt1, tmp_path):
    summary = run_figure2(tiny_run(tiny_gpt1, tmp_path / "f2", panel="right"), log=lambda _: None)
    assert summary["left"] is None and len(summary["right"]["checkpoints"]) == 2
    report = (tmp_path / "f2" / "figure2.md").read_text(encoding="utf-8")
    assert "## Right" in report and "## Left" not in report  # only the panel measured


def test_a_run_without_checkpoints_is_refused(tiny_gpt1, tmp_path):
    empty = tmp_path / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    cfg = Figure2Config(pretrain_run=str(empty), data_dir=str(tiny_gpt1["glue"]), out=str(tmp_path / "o"))
    with pytest.raises(Exception, match="without an intact checkpoint"):
        run_figure2(cfg, log=lambda _: None)


def test_the_report_names_checkpoints_as_given_not_by_this_machines_folders(tiny_gpt1, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(tiny_gpt1["run"]).parent)  # the pre-training run lies inside the working directory
    summary = run_figure2(tiny_run(tiny_gpt1, tmp_path / "f2", panel="right"), log=lambda _: None)
    run = Path(tiny_gpt1["run"]).name
    for c in summary["right"]["checkpoints"]:
        assert c["checkpoint"] == f"{run}/checkpoints/step_{c['step']:08d}"
        assert c["recipe"]["checkpoint"] == c["checkpoint"]
        assert {s["checkpoint"] for s in c["scores"].values()} == {c["checkpoint"]}
