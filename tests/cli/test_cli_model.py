"""``ronbun model info`` prints parameter counts and the faithfulness profile."""

from __future__ import annotations

from ronbun.cli.main import main


def test_model_info_prints_the_base_parameter_count(capsys):
    assert main(["model", "info", "--preset", "base", "--vocab-size", "37000"]) == 0
    out = capsys.readouterr().out
    assert "parameters: 63,082,496" in out
    assert "Table 3 lists 65M" in out
    assert "every setting is the paper's" in out


def test_model_info_lists_departures_with_their_sections(capsys):
    assert main(["model", "info", "--preset", "base", "--set", 'sinusoid_layout="concatenated"']) == 0
    assert "sinusoid_layout = 'concatenated' (paper: 'interleaved'; §3.5" in capsys.readouterr().out


def test_model_info_rejects_unknown_presets_and_keys(capsys):
    assert main(["model", "info", "--preset", "huge"]) == 2
    assert "unknown preset 'huge'" in capsys.readouterr().err
    assert main(["model", "info", "--set", "heads=3"]) == 2
    assert "unknown TransformerConfig key(s): heads" in capsys.readouterr().err
