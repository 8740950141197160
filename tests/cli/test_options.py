"""The command-line options and the config-file merge are generated from the settings' declarations
(:mod:`ronbun.settings`, :mod:`ronbun.cli.options`)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from ronbun.cli.main import main
from ronbun.cli.options import add_settings, merge_settings, settings_from, training_settings
from ronbun.mt.task import MTDataConfig
from ronbun.settings import described, from_mapping, read_sections, setting
from ronbun.training.loop import TrainerConfig


@dataclasses.dataclass
class Example:
    out: Path = setting(help="where it goes")
    warmup: int = setting(4000, "warm-up updates", paper="§5.3, Eq. 3")
    schedule: Literal["noam", "cosine"] = setting("noam", "learning-rate schedule")
    rate: float | None = setting(None, "a rate (100% = all)")
    progress: bool = setting(True, "live progress bar")
    strict: bool = setting(True, "malformed rows are errors", flag="--non-strict")
    compile: bool = setting(False, "torch.compile the model")
    samples: int = setting(1, "samples per prompt", flag=("--num-samples", "-n"))
    hidden: int = setting(3, "a config-file setting", cli=False)


def parser_for(cls: type, **kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="example")
    add_settings(parser, cls, **kwargs)
    return parser


def test_help_shows_each_declared_help_paper_section_default_and_type():
    text = parser_for(Example).format_help()
    assert "warm-up updates; paper §5.3, Eq. 3; default 4000" in " ".join(text.split())
    assert "--schedule {noam,cosine}" in text
    assert "a rate (100% = all)" in text  # a % in a help text is not an argparse format
    assert "--no-progress" in text and "--non-strict" in text and "--compile" in text
    assert "--num-samples SAMPLES, -n SAMPLES" in text
    assert "--hidden" not in text  # cli=False: config files only
    assert "default 9" in " ".join(parser_for(Example, shown={"warmup": 9}).format_help().split())


def test_options_parse_to_the_declared_types_and_fields_without_default_are_required():
    parser = parser_for(Example)
    args = parser.parse_args(["--out", "x", "--warmup", "12", "--rate", "0.5", "--no-progress", "-n", "3"])
    ex = settings_from(Example, args)
    assert ex == Example(out=Path("x"), warmup=12, rate=0.5, progress=False, samples=3)
    assert settings_from(Example, parser.parse_args(["--out", "x", "--non-strict"])).strict is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--warmup", "12"])  # --out is required
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "x", "--schedule", "linear"])  # not a choice


def test_a_config_file_section_and_options_merge_with_the_option_winning():
    args = parser_for(TrainerConfig).parse_args(["--warmup", "7", "--out", "runs/x"])
    merged = merge_settings(TrainerConfig, args, {"warmup": 100, "lr": 2.0}, "trainer")
    assert merged == {"warmup": 7, "lr": 2.0, "out_dir": "runs/x"}
    assert TrainerConfig.from_dict(merged).warmup == 7


def test_an_unknown_config_key_is_a_one_line_error_naming_it():
    args = parser_for(TrainerConfig).parse_args([])
    with pytest.raises(ValueError, match=r"^unknown trainer setting\(s\): warmpu$"):
        merge_settings(TrainerConfig, args, {"warmpu": 1}, "trainer")
    with pytest.raises(ValueError, match=r"unknown data setting\(s\): vocab"):
        from_mapping(MTDataConfig, {"vocab": 1}, "data")


def test_training_settings_read_the_config_file_under_the_options(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text("[data]\nvocab_size = 300\nmax_len = 50\n[model]\npreset = 'tiny'\nd_model = 32\n")
    parser = argparse.ArgumentParser()
    from ronbun.cli.options import add_training_options

    add_training_options(parser, MTDataConfig, data_title="data", presets="tiny")
    args = parser.parse_args(["--config", str(config), "--vocab-size", "500", "--set", "d_ff=64"])
    run = training_settings(args, MTDataConfig)
    assert run.preset == "tiny" and run.model == {"d_model": 32, "d_ff": 64}
    assert run.data == {"vocab_size": 500, "max_len": 50} and run.trainer == {}
    assert read_sections(None, ("data",)) == {}


def test_every_command_line_training_setting_is_declared_once_on_its_dataclass():
    for cls in (TrainerConfig, MTDataConfig):
        for field in dataclasses.fields(cls):
            assert described(field) is not None and described(field).help, f"{cls.__name__}.{field.name}"


def test_an_unknown_key_in_a_training_config_file_stops_the_command(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text("[trainer]\nwarmpu = 5\n")
    assert main(["mt", "train", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == "ronbun: error: unknown trainer setting(s): warmpu"
    assert not (tmp_path / "out").exists()
