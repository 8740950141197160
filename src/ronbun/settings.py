"""Declared settings: each setting of a run is declared once, as a dataclass field that carries its help
text and the paper section it implements.

``ronbun.cli.options`` builds the command-line options and the config-file merge from these declarations;
:func:`from_mapping` builds a config from a mapping and refuses unknown keys; :func:`read_sections` reads a
settings file (TOML, YAML or JSON, one ``[section]`` per config).  This module imports nothing from ronbun,
so every floor's configuration (models, training, translation, GPT-1) can use it.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "RunSettings",
    "Setting",
    "check_keys",
    "described",
    "from_mapping",
    "read_sections",
    "read_settings_file",
    "setting",
]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Setting:
    """What a field's metadata says about it (see :func:`setting`)."""

    help: str
    paper: str | None = None  # the paper section the setting implements, e.g. "§5.3, Eq. 3"
    flag: str | tuple[str, ...] | None = None  # the command-line option(s) when not ``--field-name``
    cli: bool = True  # False: config files only (no command-line option)


@dataclasses.dataclass
class RunSettings:
    """A training run's resolved sections: ``[data]``, ``[model]`` overrides of a model ``preset`` (``None``:
    the task's default) and ``[trainer]``; only the settings given, the task supplies the rest."""

    preset: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    trainer: dict[str, Any] = dataclasses.field(default_factory=dict)


def setting(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    paper: str | None = None,
    flag: str | tuple[str, ...] | None = None,
    cli: bool = True,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field declared with its help text and paper section, e.g.
    ``warmup: int = setting(4000, "warm-up updates", paper="§5.3, Eq. 3")``."""
    meta = {"setting": Setting(help=help, paper=paper, flag=flag, cli=cli)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def described(field: dataclasses.Field) -> Setting | None:
    """The declaration of ``field``, or ``None`` for a field declared without :func:`setting`."""
    return field.metadata.get("setting")


def check_keys(cls: type, data: Mapping[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming every key of ``data`` that is not a field of the dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s): {', '.join(unknown)}")


def from_mapping(cls: type[T], data: Mapping[str, Any], what: str) -> T:
    """``cls(**data)`` after :func:`check_keys` (``what`` names the settings in the error)."""
    check_keys(cls, data, what)
    return cls(**data)


def read_settings_file(path: Path) -> dict[str, Any]:
    """Read a TOML, YAML or JSON settings file into a dict."""
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


def read_sections(path: Path | None, sections: Collection[str]) -> dict[str, Any]:
    """The sections of the settings file ``path`` (``{}`` without one); an unknown section is an error."""
    cfg = read_settings_file(path) if path else {}
    unknown = sorted(set(cfg) - set(sections))
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}; use {', '.join(sections)}")
    return cfg
