"""The appendix of "Attention Is All You Need" (Figures 3-5) made runnable: sub-word attention merged into
word attention that is still a distribution per word, the per-head shares of "making" and "its" written
beside the pictures, and ``ronbun viz appendix`` on a tiny random-weight translator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ronbun.cli.main import main
from ronbun.data.synthetic import generate_corpus
from ronbun.inspection import (
    APPENDIX_SENTENCES,
    appendix_attention,
    default_layer,
    find_word,
    load_inspectable,
    merge_words,
    word_groups,
    word_labels,
)
from ronbun.models import Transformer, TransformerConfig
from ronbun.text.bpe import TextTokenizer
from ronbun.training.checkpoint import save_checkpoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def translator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 3-layer Transformer with a small byte-level BPE (the appendix words split into pieces)."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("appendix")
    en, de = generate_corpus(n_train=200, n_valid=2, n_test=2)["train"]
    tok = TextTokenizer.train(en + de, 300)
    tok.save(root / "tokenizer.json")
    config = TransformerConfig.preset(
        "tiny", vocab_size=tok.vocab_size, max_positions=160, n_encoder_layers=3, d_model=32, d_ff=64
    )
    return save_checkpoint(root / "mt", Transformer(config), tokenizer_file=root / "tokenizer.json")


# -- merging sub-words into words -------------------------------------------------------------------------
def test_pieces_group_into_words_by_spaces_markers_and_punctuation() -> None:
    pieces = [" mak", "ing", " the", " diff", "ic", "ult", ".", "</s>"]
    groups = word_groups(pieces)
    assert groups == [[0, 1], [2], [3, 4, 5], [6], [7]]
    assert word_labels(pieces, groups) == ["making", "the", "difficult", ".", "</s>"]
    spm = ["▁Its", "▁appli", "cation", "▁-", "▁just"]  # SentencePiece marks word starts with ▁
    assert word_labels(spm, word_groups(spm)) == ["Its", "application", "-", "just"]
    assert word_groups(["It", " is"]) == [[0], [1]]  # the first piece starts a word without a space
    bare = [" ", "It", " ", "is", " ", "-", " the"]  # byte-level BPE may give the space a piece of its own
    assert word_labels(bare, word_groups(bare)) == ["It", "is", "-", "the"]


def test_merging_sums_key_pieces_and_averages_query_pieces() -> None:
    # pieces: "mak" "ing" | "more" | "diff" "icult" → words: making, more, difficult
    weights = torch.tensor(
        [
            [0.10, 0.10, 0.20, 0.30, 0.30],
            [0.30, 0.10, 0.40, 0.10, 0.10],
            [0.20, 0.20, 0.20, 0.20, 0.20],
            [0.00, 0.50, 0.00, 0.25, 0.25],
            [1.00, 0.00, 0.00, 0.00, 0.00],
        ]
    )
    merged = merge_words(weights, [[0, 1], [2], [3, 4]])
    expected = torch.tensor(
        [
            [(0.2 + 0.4) / 2, (0.2 + 0.4) / 2, (0.6 + 0.2) / 2],  # making: mean of its two rows
            [0.4, 0.2, 0.4],  # more: one row, key words summed over their pieces
            [(0.5 + 1.0) / 2, 0.0, (0.5 + 0.0) / 2],
        ]
    )
    torch.testing.assert_close(merged, expected)
    torch.testing.assert_close(merged.sum(-1), torch.ones(3))  # every word row is still a distribution
    heads = torch.stack([weights, weights.flip(-1)])  # (h, T, T): heads merge independently
    assert merge_words(heads, [[0, 1], [2], [3, 4]]).shape == (2, 3, 3)
    torch.testing.assert_close(merge_words(heads, [[0, 1], [2], [3, 4]])[0], expected)


def test_words_are_found_ignoring_case_and_missing_ones_are_named() -> None:
    assert find_word(["the", "law", "will"], "Law") == 1
    with pytest.raises(ValueError, match="'its' is not among"):
        find_word(["the", "law"], "its")


def test_the_appendix_sentences_are_the_papers() -> None:
    fig3, fig4 = APPENDIX_SENTENCES
    assert fig3.text.startswith("It is in this spirit that a majority of American governments")
    assert fig3.text.endswith("making the registration or voting process more difficult.")
    assert (fig3.word, fig3.targets) == ("making", ("more", "difficult"))
    assert fig4.text == (
        "The Law will never be perfect, but its application should be just - this is what we are missing, "
        "in my opinion."
    )
    assert (fig4.word, fig4.targets) == ("its", ("Law", "application"))
    assert [default_layer(n) for n in (6, 3, 2, 1)] == [4, 1, 0, 0]  # "layer 5 of 6" = layer 4 from 0


# -- a checkpoint through the appendix --------------------------------------------------------------------
def test_word_attention_of_a_checkpoint_is_a_distribution_with_bounded_shares(translator: Path) -> None:
    found = appendix_attention(load_inspectable(translator))
    assert found.layer == 1 and found.n_layers == 3  # the second-to-last of 3 encoder layers
    fig3, fig4 = found.sentences
    assert fig3.words[fig3.query] == "making" and fig4.words[fig4.query] == "its"
    assert len(fig3.pieces) > len(fig3.words)  # the small BPE splits words: merging is exercised
    for s in (fig3, fig4):
        h, w = s.weights.shape[0], len(s.words)
        assert s.weights.shape == (h, w, w)
        torch.testing.assert_close(s.weights.sum(-1), torch.ones(h, w))
        for row, shares in zip(s.row, s.shares, strict=True):
            assert all(0.0 <= v <= 1.0 for v in shares.values())
            assert sum(shares.values()) <= float(row.sum()) + 1e-6
            for target, share in shares.items():
                assert share == pytest.approx(float(row[find_word(s.words, target)]))


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, tuple]]:
    """The pictures ``viz appendix`` asks for, written as stubs (matplotlib's text layout of four 30-word
    figures takes tens of seconds; ``test_viz_appendix_draws_real_pictures`` draws them for real)."""
    import ronbun.viz.appendix as appendix_plots
    import ronbun.viz.attention as attention_plots

    calls: dict[str, tuple[str, tuple]] = {}

    def stub(kind: str):
        def draw(*args, **kwargs) -> Path:
            out = Path(args[-1] if kind != "heads" else args[3])
            out.write_bytes(b"stub")
            calls[out.name] = (kind, args)
            return out

        return draw

    monkeypatch.setattr(attention_plots, "plot_heads", stub("heads"))
    monkeypatch.setattr(appendix_plots, "plot_word_lines", stub("lines"))
    monkeypatch.setattr(appendix_plots, "plot_word_highlight", stub("highlight"))
    return calls


def test_viz_appendix_writes_the_figures_and_the_shares(
    translator: Path, tmp_path: Path, drawn: dict[str, tuple[str, tuple]]
) -> None:
    out = tmp_path / "figs"
    args = ["viz", "appendix", str(translator), "--out", str(out), "--layer", "-1"]
    assert main([*args, "--sentence", "The dog sees the cat.", "--word", "dog"]) == 0
    assert {name: kind for name, (kind, _) in drawn.items()} == {
        "appendix_fig3_making.png": "lines",  # Figure 3: "making", one colour per head
        "appendix_fig3_heads.png": "heads",
        "appendix_fig4_its.png": "highlight",  # Figure 4: "its", words shaded per head
        "appendix_fig5_heads.png": "heads",  # Figure 5: every head of the layer
        "appendix_sentence_heads.png": "heads",
        "appendix_sentence_word.png": "lines",
    }
    weights, rows, cols, _ = drawn["appendix_fig5_heads.png"][1]
    assert rows == cols and rows[:3] == ["The", "Law", "will"] and weights.shape == (4, len(rows), len(rows))
    data = json.loads((out / "appendix_attention.json").read_text(encoding="utf-8"))
    assert data["layer"] == 2 and data["n_heads"] == 4 and data["command"].startswith("ronbun viz appendix")
    fig3, fig4, extra = data["sentences"]
    assert (fig3["word"], fig3["targets"], fig4["word"], fig4["targets"]) == (
        "making",
        ["more", "difficult"],
        "its",
        ["Law", "application"],
    )
    for s in (fig3, fig4, extra):
        assert len(s["heads"]) == 4
        for head in s["heads"]:
            assert sum(head["attention"]) == pytest.approx(1.0, abs=1e-3)  # rounded to 4 decimals
            assert all(0.0 <= v <= 1.0 for v in head["shares"].values())
            assert head["targets_total"] == pytest.approx(sum(head["shares"].values()), abs=1e-3)
    assert fig3["uniform_share"] == pytest.approx(2 / len(fig3["words"]), abs=1e-4)
    pieces = len(
        fig3["word_pieces"][fig3["words"].index("more")] + fig3["word_pieces"][-2]
    )  # more, difficult
    assert fig3["uniform_share_pieces"] == pytest.approx(pieces / len(fig3["pieces"]), abs=1e-4)


@pytest.mark.slow
def test_viz_appendix_draws_real_pictures(translator: Path, tmp_path: Path) -> None:
    assert main(["viz", "appendix", str(translator), "--out", str(tmp_path)]) == 0
    for name in ("fig3_making", "fig3_heads", "fig4_its", "fig5_heads"):
        path = tmp_path / f"appendix_{name}.png"
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000, name
    assert json.loads((tmp_path / "appendix_attention.json").read_text(encoding="utf-8"))["layer"] == 1


def test_viz_appendix_refuses_a_word_without_a_sentence(
    translator: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["viz", "appendix", str(translator), "--out", str(tmp_path), "--word", "dog"]) == 2
    assert "--word names a word of --sentence" in capsys.readouterr().err
    args = [
        "viz",
        "appendix",
        str(translator),
        "--out",
        str(tmp_path),
        "--sentence",
        "a cat",
        "--word",
        "dog",
    ]
    assert main(args) == 2
    assert "'dog' is not among" in capsys.readouterr().err
