"""``ronbun experiment table3`` parses its options and reports a wrong row as a one-line error."""

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
