"""Reading and validating parallel text: counts, UTF-8, empty and over-long pairs, gzip."""

from __future__ import annotations

import gzip
import re

import pytest

from ronbun.data.errors import DataError
from ronbun.data.parallel import ParallelCorpus, read_lines, read_parallel, validate_pairs, write_lines


def _write(path, text: str | bytes) -> str:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


def test_reads_aligned_files(tmp_path):
    src = _write(tmp_path / "a.en", "Hello world.\nA dog.\n")
    tgt = _write(tmp_path / "a.de", "Hallo Welt.\nEin Hund.\n")
    c = read_parallel(src, tgt)
    assert isinstance(c, ParallelCorpus)
    assert (c.src, c.tgt, len(c)) == (["Hello world.", "A dog."], ["Hallo Welt.", "Ein Hund."], 2)
    assert c.report.n_lines == 2 and c.report.n_kept == 2 and c.report.n_dropped == 0
    assert "2 pairs, kept 2, dropped 0" in c.report.summary()


def test_line_count_mismatch_names_both_files_and_counts(tmp_path):
    src = _write(tmp_path / "x.en", "a\nb\nc\n")
    tgt = _write(tmp_path / "x.de", "a\nb\n")
    with pytest.raises(DataError) as info:
        read_parallel(src, tgt)
    msg = str(info.value)
    assert "\n" not in msg
    assert src in msg and tgt in msg and "3 lines" in msg and "2 lines" in msg


def test_invalid_utf8_names_file_line_and_byte_offset(tmp_path):
    good = _write(tmp_path / "ok.de", "eins\nzwei\ndrei\n")
    data = b"one\ntwo \xff\xfe here\nthree\n"
    bad = _write(tmp_path / "bad.en", data)
    with pytest.raises(DataError) as info:
        read_parallel(bad, good)
    msg = str(info.value)
    offset = data.index(b"\xff")
    assert bad in msg and "line 2" in msg and f"byte offset {offset}" in msg
    assert "ff" in msg and "\n" not in msg
    # a truncated multi-byte character at the end of the file is also an error, not a U+FFFD
    _write(tmp_path / "trunc.en", b"ok\nGr\xc3")
    with pytest.raises(DataError, match=r"line 2 at byte offset 5"):
        read_lines(tmp_path / "trunc.en")


def test_utf8_bom_is_removed(tmp_path):
    p = _write(tmp_path / "bom.txt", b"\xef\xbb\xbffirst\nsecond\n")
    assert read_lines(p) == ["first", "second"]


def test_split_only_on_newline(tmp_path):
    # U+2028, U+0085 and form feed would be line breaks for str.splitlines(): they must not shift pairs
    p = _write(tmp_path / "odd.txt", "a\u2028b\nc\x85d\ne\x0cf\r\nlast")
    assert read_lines(p) == ["a\u2028b", "c\x85d", "e\x0cf", "last"]


def test_empty_pairs_dropped_and_counted(tmp_path):
    src = _write(tmp_path / "e.en", "one\n\nthree\nfour\n   \n")
    tgt = _write(tmp_path / "e.de", "eins\nzwei\n\nvier\nfünf\n")
    c = read_parallel(src, tgt)
    assert c.src == ["one", "four"] and c.tgt == ["eins", "vier"]
    r = c.report
    assert (r.n_lines, r.n_empty, r.n_kept, r.n_dropped) == (5, 3, 2, 3)
    assert r.empty_lines == [2, 3, 5]
    assert "3 with an empty side" in r.summary() and "dropped 3" in r.summary()


def test_empty_policy_keep_and_error(tmp_path):
    src = _write(tmp_path / "k.en", "one\n\n")
    tgt = _write(tmp_path / "k.de", "eins\nzwei\n")
    kept = read_parallel(src, tgt, empty="keep")
    assert kept.src == ["one", ""] and kept.report.n_empty == 1 and kept.report.n_kept == 2
    with pytest.raises(DataError, match=re.escape(f"{src}: line 2 is empty")):
        read_parallel(src, tgt, empty="error")


def test_over_long_pairs_filtered_with_length_function(tmp_path):
    src = _write(tmp_path / "l.en", "a b c\na b c d e f\nshort\n")
    tgt = _write(tmp_path / "l.de", "x y\nx\nbut this side is long\n")
    c = read_parallel(src, tgt, max_len=4)
    assert c.src == ["a b c"] and c.report.n_too_long == 2 and c.report.too_long_lines == [2, 3]
    assert "2 longer than 4 tokens" in c.report.summary()
    by_chars = read_parallel(src, tgt, max_len=5, length_fn=len)
    assert by_chars.src == ["a b c"]
    assert read_parallel(src, tgt).report.n_too_long == 0  # no max_len: nothing filtered


def test_gzip_is_transparent(tmp_path):
    (tmp_path / "g.en.gz").write_bytes(gzip.compress("Grüße\nWelt\n".encode()))
    plain = _write(tmp_path / "g.de", "Hello\nWorld\n")
    c = read_parallel(tmp_path / "g.en.gz", plain)
    assert c.src == ["Grüße", "Welt"]
    # recognised by magic bytes even without the suffix
    (tmp_path / "nosuffix").write_bytes(gzip.compress(b"x\n"))
    assert read_lines(tmp_path / "nosuffix") == ["x"]


def test_corrupt_gzip_and_missing_file(tmp_path):
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"hello\n" * 100)[:-12])
    with pytest.raises(DataError, match=r"bad\.gz: corrupt gzip"):
        read_lines(tmp_path / "bad.gz")
    (tmp_path / "fake.gz").write_bytes(b"plain text\n")
    with pytest.raises(DataError, match=r"fake\.gz: named \.gz but is not gzip"):
        read_lines(tmp_path / "fake.gz")
    with pytest.raises(DataError, match=r"nope\.txt: file not found"):
        read_lines(tmp_path / "nope.txt")


def test_invalid_utf8_inside_gzip(tmp_path):
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"fine\nbad \xc3\x28\n"))
    with pytest.raises(DataError, match=r"b\.gz: invalid UTF-8 on line 2 at byte offset 9"):
        read_lines(tmp_path / "b.gz")


def test_write_lines_roundtrip(tmp_path):
    lines = ["Grüße", "zweite Zeile", ""]
    write_lines(tmp_path / "w.txt.gz", lines)
    write_lines(tmp_path / "w.txt", lines)
    assert read_lines(tmp_path / "w.txt.gz") == lines == read_lines(tmp_path / "w.txt")


def test_validate_pairs_in_memory():
    c = validate_pairs([" a ", "b"], ["x", ""], src_name="S", tgt_name="T")
    assert c.src == ["a"] and c.report.n_empty == 1
    with pytest.raises(DataError, match="S has 1 lines but T has 2 lines"):
        validate_pairs(["a"], ["x", "y"], src_name="S", tgt_name="T")
