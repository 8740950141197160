"""``ronbun experiment table3 | table5 | figure2`` parse their options; table3 reports a wrong row as a
one-line error."""

from __future__ import annotations

import pytest

from ronbun.cli.main import build_parser, main


def test_table3_help_lists_the_scale_budget_and_data_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["experiment", "table3", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--quick", "--updates", "--rows", "--parallel", "--out", "--dataset", "--data-dir"):
        assert option in text
    assert "--test-src" not in text  # Table 3 is measured on the validation split


def test_table3_options_become_settings():
    args = build_parser().parse_args(
        ["experiment", "table3", "--quick", "--updates", "5", "--rows", "A-h1", "--parallel", "2"]
    )
    assert (args.quick, args.updates, args.rows, args.parallel, args.dataset) == (True, 5, "A-h1", 2, None)


def test_an_unknown_row_is_an_error_naming_it(tmp_path, capsys):
    assert main(["experiment", "table3", "--rows", "Z9", "--out", str(tmp_path / "t")]) == 2
    assert "unknown Table 3 row(s) Z9" in capsys.readouterr().err


def test_table5_help_lists_the_pretrained_model_data_seeds_and_budget(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["experiment", "table5", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--init", "--data-dir", "--out", "--seeds", "--other-seeds", "--quick", "--max-updates"):
        assert option in text
    args = build_parser().parse_args(
        ["experiment", "table5", "--init", "ckpt", "--data-dir", "glue", "--seeds", "5", "--rows", "full"]
    )
    assert (args.init, args.data_dir, args.seeds, args.rows, args.quick) == ("ckpt", "glue", 5, "full", None)


def test_figure2_help_lists_the_pretraining_run_and_the_zero_shot_data(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["experiment", "figure2", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--pretrain-run",
        "--data-dir",
        "--panel",
        "--story-cloze-dir",
        "--race-dir",
        "--winograd-file",
    ):
        assert option in text
    args = build_parser().parse_args(
        ["experiment", "figure2", "--pretrain-run", "run", "--data-dir", "glue", "--panel", "left"]
    )
    assert (args.pretrain_run, args.panel, args.tasks) == ("run", "left", None)


def test_table5_without_a_pretrained_model_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["experiment", "table5", "--data-dir", "glue"])
    assert exit_info.value.code == 2
    assert "--init" in capsys.readouterr().err
