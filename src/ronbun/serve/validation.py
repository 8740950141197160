"""Request validation shared by every endpoint of ``ronbun serve``: the error type the page and the API
answer with (an HTTP status and one readable sentence) and typed field readers that turn every bad value
into a 400 naming the field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An error the page shows to the user: an HTTP status and one readable sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message


# -- typed field readers: every bad value becomes a 400 with a sentence naming the field -------------------
def _read(
    payload: Mapping[str, Any], key: str, noun: str, error: type[Exception]
) -> tuple[Any, float] | None:
    """``payload[key]`` as sent and as a float (``noun`` names the type in the error); ``None`` when the
    field is absent or empty, so that its default applies."""
    value = payload.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise error(400, f"{key} must be {noun}, got {value!r}")
    try:
        return value, float(value)
    except (TypeError, ValueError):
        raise error(400, f"{key} must be {noun}, got {value!r}") from None


def read_number(
    payload: Mapping[str, Any],
    key: str,
    default: float,
    lo: float,
    hi: float,
    *,
    lo_open: bool = False,
    error: type[Exception] = ApiError,
) -> float:
    """``payload[key]`` as a float in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``), ``default`` when absent."""
    read = _read(payload, key, "a number", error)
    if read is None:
        return default
    value, number = read
    if not math.isfinite(number) or number > hi or number < lo or (lo_open and number <= lo):
        bound = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
        raise error(400, f"{key} must be in {bound}, got {value!r}")
    return number


def read_integer(
    payload: Mapping[str, Any],
    key: str,
    default: int | None,
    lo: int,
    hi: int,
    *,
    error: type[Exception] = ApiError,
) -> int | None:
    """``payload[key]`` as a whole number in ``[lo, hi]``, ``default`` when absent."""
    read = _read(payload, key, "a whole number", error)
    if read is None:
        return default
    value, number = read
    if not math.isfinite(number) or number != int(number):
        raise error(400, f"{key} must be a whole number, got {value!r}")
    if not lo <= int(number) <= hi:
        raise error(400, f"{key} must be between {lo} and {hi}, got {int(number)}")
    return int(number)
