"""Pieces shared by the training commands of both papers: config files, trainer flags, overrides."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

TRAINER_FLAGS: dict[str, tuple[type, str]] = {
    "out_dir": (str, "output directory for checkpoints and metrics (default runs/<job>)"),
    "max_steps": (int, "optimizer updates to run"),
    "max_minutes": (float, "stop (with a checkpoint) after this many minutes of training"),
    "schedule": (str, "lr schedule: noam (Eq. 3), cosine, linear, constant"),
    "lr": (float, "noam: scale factor of Eq. 3 (paper 1.0); others: peak learning rate"),
    "warmup": (int, "warm-up updates (paper: 4000)"),
    "weight_decay": (float, "decoupled weight decay on matrices (GPT-1: 0.01)"),
    "clip_norm": (float, "clip the gradient norm to this value"),
    "accum_steps": (int, "micro-batches accumulated per update (reach the paper's batch on small hardware)"),
    "seed": (int, "random seed"),
    "precision": (str, "auto (default: bf16 autocast where the hardware has it), fp32, bf16 or fp16"),
    "log_every": (int, "log training metrics every N updates"),
    "eval_every": (int, "validate every N updates"),
    "save_every": (int, "checkpoint every N updates"),
    "save_every_minutes": (float, "also checkpoint every N minutes of training (the paper: 10)"),
    "keep_last": (int, "keep only the newest N checkpoints"),
    "nonfinite": (str, "on a non-finite loss: stop (default) or skip the update"),
    "threads": (int, "torch CPU threads"),
}


CONFIG_SECTIONS = ("data", "model", "trainer", "preset")


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML/YAML/JSON file with [data], [model], [trainer] sections")


def add_model_args(
    g: argparse.ArgumentParser | argparse._ArgumentGroup, presets: str, *, note: str = ""
) -> None:
    """``--preset`` and repeatable ``--set KEY=VALUE`` (model settings over the preset)."""
    g.add_argument("--preset", help=f"{note}model preset: {presets}")
    g.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=f"{note}override a model setting"
    )


def read_sections(path: Path | None) -> dict[str, Any]:
    """The ``--config`` file's sections (``{}`` without one); an unknown section is an error."""
    cfg = load_config_file(path) if path else {}
    unknown = sorted(set(cfg) - set(CONFIG_SECTIONS))
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}; use {', '.join(CONFIG_SECTIONS)}")
    return cfg


def data_section(
    args: argparse.Namespace, file_cfg: dict[str, Any], flags: dict[str, type]
) -> dict[str, Any]:
    """The config file's ``[data]`` section overridden by the data flags given on the command line."""
    data = dict(file_cfg.get("data", {}))
    for key in flags:
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    return data


def model_section(
    args: argparse.Namespace, file_cfg: dict[str, Any], default_preset: str
) -> tuple[str, dict[str, Any]]:
    """``(preset, model overrides)``: ``--preset`` ← ``[model] preset`` ← top-level ``preset`` ← the default;
    overrides are ``[model]`` then ``--set``."""
    model = dict(file_cfg.get("model", {}))
    file_preset = model.pop("preset", None)  # always taken out: it is not a model setting
    preset = args.preset or file_preset or file_cfg.get("preset") or default_preset
    model.update(parse_overrides(args.set))
    return preset, model


def add_trainer_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    for key, (typ, help_text) in TRAINER_FLAGS.items():
        flag = "--out" if key == "out_dir" else "--" + key.replace("_", "-")
        g.add_argument(flag, dest=key, type=typ, help=help_text)
    g.add_argument("--compile", action="store_true", default=None, help="torch.compile the model (opt-in)")
    g.add_argument("--no-progress", action="store_true", help="no live progress bar")
    g.add_argument(
        "--resume", action="store_true", help="continue from the newest intact checkpoint in --out"
    )


def trainer_config_from(args: argparse.Namespace, file_section: dict[str, Any]) -> dict[str, Any]:
    out = dict(file_section)
    for key in TRAINER_FLAGS:
        value = getattr(args, key, None)
        if value is not None:
            out[key] = value
    if getattr(args, "compile", None):
        out["compile"] = True
    if getattr(args, "no_progress", False):
        out["progress"] = False
    return out


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML, YAML or JSON configuration file into a dict."""
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping at the top level")
            return data
        if suffix == ".json":
            return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot parse ({exc})") from None
    raise ValueError(f"{path}: unsupported config format {suffix!r} (use .toml, .yaml or .json)")


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are parsed as JSON when possible (numbers, true/false, null, "strings")."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
