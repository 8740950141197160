"""The attention heat-maps say how to read them: a colour bar labelled "attention weight", the query axis
("attends from") and the key axis ("attends to"), and layer numbers that say they count from 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import ronbun.viz.attention as viz
from ronbun.viz.attention import count_from_zero, layer_label, plot_attention, plot_heads

TOKENS = ["I", "know", "that", "."]


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure the plotting functions would save, kept open for inspection instead of written."""
    kept: list[Any] = []

    def keep(fig: Any, out: str | Path, dpi: int = 110) -> Path:
        kept.append(fig)
        return Path(out)

    monkeypatch.setattr(viz, "save_figure", keep)
    return kept


def colour_bar_labels(fig: Any) -> list[str]:
    return [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]


def heat_maps(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.images]


def test_layer_label_says_layers_count_from_zero() -> None:
    assert layer_label(0) == "layer 0 (counting from 0)"
    assert (
        count_from_zero("encoder self-attention, layer 0")
        == "encoder self-attention, layer 0 (counting from 0)"
    )
    assert count_from_zero("cross, layer 2, head 1") == "cross, layer 2 (counting from 0), head 1"
    once = count_from_zero("layer 12, every head")
    assert once == "layer 12 (counting from 0), every head"
    assert count_from_zero(once) == once  # idempotent: a title made with layer_label is left alone
    for title in ("mean over 3 layer(s) × 4 heads", "mean over heads of all 3 layers", "multilayer 2"):
        assert count_from_zero(title) == title


def test_one_head_has_a_colour_bar_axis_labels_and_a_counted_layer(figures: list[Any]) -> None:
    weights = torch.rand(4, 4).softmax(-1)
    out = plot_attention(
        weights, TOKENS, TOKENS, "unused.png", title="encoder self-attention, layer 0, head 2"
    )
    assert out == Path("unused.png")
    (fig,) = figures
    (ax,) = heat_maps(fig)
    assert colour_bar_labels(fig) == ["attention weight"]
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("query (attends from)", "key (attends to)")
    assert ax.get_title() == "encoder self-attention, layer 0 (counting from 0), head 2"


@pytest.mark.parametrize("n_heads", [4, 6])
def test_every_head_shares_one_labelled_colour_bar(figures: list[Any], n_heads: int) -> None:
    weights = torch.rand(n_heads, 4, 4).softmax(-1)
    plot_heads(weights, TOKENS, TOKENS, "unused.png", title="encoder self-attention, layer 1")
    (fig,) = figures
    maps = heat_maps(fig)
    assert [ax.get_title() for ax in maps] == [f"head {i}" for i in range(n_heads)]
    assert colour_bar_labels(fig) == ["attention weight"]
    assert {im.get_clim() for ax in maps for im in ax.images} == {(0.0, float(weights.max()))}  # one scale
    assert fig.get_suptitle() == "encoder self-attention, layer 1 (counting from 0)"
    # queries are named on the left column, keys under the lowest map of every column
    assert {ax.get_ylabel() for i, ax in enumerate(maps) if i % 4 == 0} == {"query (attends from)"}
    assert {ax.get_xlabel() for i, ax in enumerate(maps) if i + 4 >= n_heads} == {"key (attends to)"}


def test_the_plots_keep_their_call_signatures(tmp_path: Path) -> None:
    """``demo.py`` and ``ronbun viz`` call them positionally with a ``title`` keyword, or without one."""
    weights = torch.rand(2, 4, 4).softmax(-1)
    for path in (
        plot_heads(weights, TOKENS, TOKENS, tmp_path / "heads.png"),
        plot_heads(weights, TOKENS, TOKENS, tmp_path / "titled.png", title="decoder, layer 0, every head"),
        plot_attention(weights[0], TOKENS, TOKENS, tmp_path / "one.png"),
    ):
        assert path.is_file() and path.stat().st_size > 1000
