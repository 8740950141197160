"""Errors raised by the data layer.

Every problem with input data (mismatched parallel files, bad encodings, missing or corrupt downloads)
is reported as a :class:`DataError` whose message is one line naming the file and what is wrong, so a
command-line tool can print it as is, without a traceback.
"""

from __future__ import annotations


class DataError(ValueError):
    """A clear, one-line problem with input data (file, line, count or checksum)."""
