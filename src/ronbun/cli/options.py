"""Command-line options and config-file sections generated from the settings' declarations.

A setting is declared once, as a field of its config dataclass (:func:`ronbun.settings.setting`: type,
default, help, paper section, and the option name when it is not ``--field-name``).  :func:`add_settings`
turns a dataclass into argparse options; :func:`merge_settings` merges a config file's section with the
options given, the options winning.  Every option defaults to ``None`` ("not given"), so the application
applies its own defaults below both.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..settings import RunSettings, check_keys, described, read_sections

CONFIG_SECTIONS = ("data", "model", "trainer", "preset")
Parser = argparse.ArgumentParser | argparse._ArgumentGroup
T = TypeVar("T")


# -- sub-commands ----------------------------------------------------------------------------------------------
def command_group(sub: argparse._SubParsersAction, name: str, help: str, metavar: str = "ACTION"):
    """``ronbun NAME …``: a parser whose own sub-commands are added to the returned action."""
    p = sub.add_parser(name, help=help)
    return p.add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


def command(
    sub: argparse._SubParsersAction, func: Callable[[argparse.Namespace], int], **kwargs: Any
) -> argparse.ArgumentParser:
    """The sub-command ``run_NAME`` runs: named ``NAME``, its help the first paragraph of the function's
    docstring, its description the rest (``kwargs`` go to ``add_parser``, e.g. an explicit description).
    A description given with line breaks keeps them."""
    first, _, rest = (inspect.getdoc(func) or "").partition("\n\n")
    kwargs.setdefault("description", " ".join(rest.split()) or None)
    if "\n" in (kwargs["description"] or ""):
        kwargs["formatter_class"] = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(func.__name__.removeprefix("run_"), help=" ".join(first.split()), **kwargs)
    p.set_defaults(func=func)
    return p


# -- options from declarations -------------------------------------------------------------------------------
def flags_of(field: dataclasses.Field) -> tuple[str, ...]:
    """The option strings of a field: its declared flag(s), else ``--field-name`` (``--no-field-name`` for a
    switch that is on by default)."""
    declared = described(field)
    if declared is not None and declared.flag:
        return (declared.flag,) if isinstance(declared.flag, str) else tuple(declared.flag)
    name = field.name.replace("_", "-")
    return (f"--no-{name}",) if field.default is True else (f"--{name}",)


def _value_type(hint: Any) -> tuple[type | None, tuple[Any, ...] | None]:
    """``(type, choices)`` of a field's annotation; ``int | None`` is ``int``, a ``Literal`` gives choices."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else str
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        return type(choices[0]), choices
    return (hint, None) if hint in (bool, int, float, str, Path) else (None, None)


def command_line_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that are command-line options (declared, ``cli`` not switched off)."""
    return [f for f in dataclasses.fields(cls) if (d := described(f)) is not None and d.cli]


def add_settings(
    parser: Parser, cls: type, *, shown: Mapping[str, Any] | None = None, skip: tuple[str, ...] = ()
) -> None:
    """One option per command-line field of the dataclass ``cls`` (``dest`` = the field name, default
    ``None``; a field without a default is a required option).  The help says what the declaration says,
    its paper section and the default: ``shown[name]`` when the command has its own, else the field's."""
    hints = typing.get_type_hints(cls)
    for field in command_line_fields(cls):
        if field.name in skip:
            continue
        declared, (typ, choices) = described(field), _value_type(hints[field.name])
        if typ is None:
            raise TypeError(f"{cls.__name__}.{field.name}: no command-line form for {hints[field.name]}")
        text = declared.help + (f"; paper {declared.paper}" if declared.paper else "")
        if typ is bool:  # a switch: --name turns on a setting that is off by default, --no-name the reverse
            on = field.default is not True
            text += "" if on else f"; on unless {flags_of(field)[0]}"
            kwargs: dict[str, Any] = {"action": "store_const", "const": on}
        else:
            default = (shown or {}).get(field.name, field.default)
            text += f"; default {default}" if default not in (None, dataclasses.MISSING) else ""
            kwargs = {"type": typ, "choices": choices, "required": field.default is dataclasses.MISSING}
        help_text = text.replace("%", "%%")  # argparse formats help strings with %
        parser.add_argument(*flags_of(field), dest=field.name, default=None, help=help_text, **kwargs)


def merge_settings(
    cls: type, args: argparse.Namespace, section: Mapping[str, Any] | None = None, what: str = "data"
) -> dict[str, Any]:
    """A config file's section (checked: an unknown key is an error naming it) with the options given on
    the command line on top."""
    check_keys(cls, section or {}, what)
    merged = dict(section or {})
    for field in command_line_fields(cls):
        value = getattr(args, field.name, None)
        if value is not None:
            merged[field.name] = value
    return merged


def settings_from(cls: type[T], args: argparse.Namespace) -> T:
    """The dataclass ``cls`` from the options given (its defaults for the others)."""
    return cls(**merge_settings(cls, args))


# -- --set KEY=VALUE -------------------------------------------------------------------------------------------
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


# -- the training commands of both papers ---------------------------------------------------------------------
def add_model_args(g: Parser, presets: str, *, note: str = "") -> None:
    """``--preset`` and repeatable ``--set KEY=VALUE`` (model settings over the preset)."""
    g.add_argument("--preset", help=f"{note}model preset: {presets}")
    g.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=f"{note}override a model setting"
    )


def add_training_options(
    p: argparse.ArgumentParser,
    data: type,
    *,
    data_title: str,
    presets: str,
    model_note: str = "",
    trainer_defaults: Mapping[str, Any] | None = None,
) -> argparse._ArgumentGroup:
    """``--config``, the ``[data]`` settings of ``data``, ``--preset``/``--set``, the ``[trainer]``
    settings and ``--resume``; returns the model group (for command-specific model options)."""
    from ..training.loop import TrainerConfig

    p.add_argument("--config", type=Path, help="TOML/YAML/JSON file with [data], [model], [trainer] sections")
    add_settings(p.add_argument_group(data_title), data)
    model = p.add_argument_group("model")
    add_model_args(model, presets, note=model_note)
    trainer = p.add_argument_group("training")
    add_settings(trainer, TrainerConfig, shown=trainer_defaults)
    trainer.add_argument(
        "--resume", action="store_true", help="continue from the newest intact checkpoint in --out"
    )
    return model


def training_settings(args: argparse.Namespace, data: type) -> RunSettings:
    """Merge ``--config`` with the options: ``[data]`` and ``[trainer]`` under their options, the model
    preset from ``--preset`` ← ``[model] preset`` ← top-level ``preset``, model settings ``[model]`` then
    ``--set``."""
    from ..training.loop import TrainerConfig

    cfg = read_sections(args.config, CONFIG_SECTIONS)
    model = dict(cfg.get("model", {}))
    file_preset = model.pop("preset", None)  # always taken out: it is not a model setting
    model.update(parse_overrides(args.set))
    return RunSettings(
        preset=args.preset or file_preset or cfg.get("preset"),
        data=merge_settings(data, args, cfg.get("data", {}), "data"),
        model=model,
        trainer=merge_settings(TrainerConfig, args, cfg.get("trainer", {}), "trainer"),
    )
