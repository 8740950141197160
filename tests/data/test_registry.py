"""Named datasets: a local Multi30k copy, and download + checksum + cache against a local HTTP server."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from ronbun.data import registry
from ronbun.data.errors import DataError
from ronbun.data.registry import (
    BuiltinDataset,
    list_datasets,
    load_corpora,
    load_dataset,
    reference_path,
    tokenized_references,
)

SHARED_MULTI30K = Path("/work/shared/data/multi30k")
needs_multi30k = pytest.mark.skipif(not SHARED_MULTI30K.is_dir(), reason="shared Multi30k copy not present")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No user data dir, a private cache, and no proxy between us and 127.0.0.1."""
    monkeypatch.delenv("RONBUN_DATA_DIR", raising=False)
    monkeypatch.setenv("RONBUN_CACHE", str(tmp_path / "cache"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


# ------------------------------------------------------------------------------------ local copy


@needs_multi30k
def test_multi30k_from_local_dir():
    data = load_dataset("multi30k", "en", "de", data_dir=SHARED_MULTI30K)
    assert {k: (len(s), len(t)) for k, (s, t) in data.items()} == {
        "train": (29_000, 29_000),
        "valid": (1_014, 1_014),
        "test": (1_000, 1_000),
    }
    assert data["valid"][0][0].startswith("A group of men")
    assert data["valid"][1][0] == "Eine Gruppe von Männern lädt Baumwolle auf einen Lastwagen"
    back = load_dataset("multi30k", "de", "en", data_dir=SHARED_MULTI30K, splits=("test",))
    assert list(back) == ["test"] and back["test"] == data["test"][::-1]


@needs_multi30k
def test_multi30k_tokenized_and_references(monkeypatch):
    # the environment variable may point at the parent folder holding multi30k/
    monkeypatch.setenv("RONBUN_DATA_DIR", str(SHARED_MULTI30K.parent))
    tok = load_dataset("multi30k", "en", "de", tokenized=True, splits=("valid",))
    assert tok["valid"][1][0] == "eine gruppe von männern lädt baumwolle auf einen lastwagen"
    refs = tokenized_references("multi30k", "en", "de", "test")
    assert refs is not None and len(refs) == 1_000 and refs[0] == refs[0].lower()
    assert reference_path("multi30k", "test", "de") == SHARED_MULTI30K / "tok/test_2016_flickr.lc.norm.tok.de"
    corpora = load_corpora("multi30k", "en", "de", splits=("train",))
    assert corpora["train"].report.n_dropped == 0 and "29000 pairs" in corpora["train"].report.summary()


def test_explicit_data_dir_without_files_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no multi30k files here"):
        load_dataset("multi30k", "en", "de", data_dir=tmp_path)
    (tmp_path / "raw").mkdir()
    with pytest.raises(DataError, match=r"raw/train\.en\.gz: missing"):
        load_dataset("multi30k", "en", "de", data_dir=tmp_path)


def test_bad_names_and_languages():
    assert list_datasets() == ["builtin", "multi30k"]
    with pytest.raises(DataError, match="unknown dataset 'wmt99'"):
        load_dataset("wmt99", "en", "de")
    with pytest.raises(DataError, match="no language 'fr'"):
        load_dataset("multi30k", "en", "fr")
    with pytest.raises(DataError, match="both 'en'"):
        load_dataset("builtin", "en", "en")


def test_builtin_dataset(monkeypatch):
    small = BuiltinDataset(options={"n_train": 300, "n_valid": 20, "n_test": 30})
    monkeypatch.setitem(registry.DATASETS, "builtin", small)
    en_de = load_dataset("builtin", "en", "de")
    de_en = load_dataset("builtin", "de", "en")
    assert [len(en_de[s][0]) for s in ("train", "valid", "test")] == [300, 20, 30]
    assert de_en["test"] == en_de["test"][::-1]
    assert tokenized_references("builtin", "en", "de") is None
    with pytest.raises(DataError, match="no tokenised variant"):
        load_dataset("builtin", "en", "de", tokenized=True)


# ------------------------------------------------------------------------------------ downloads


class _Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/task1/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_multi30k(tmp_path, monkeypatch):
    """A tiny Multi30k-shaped repository served over HTTP; the registry entry points at it."""
    task1 = tmp_path / "www/data/task1"
    sums: dict[str, str] = {}
    sizes = {"train": 5, "val": 3, "test_2016_flickr": 2}
    for stem, n in sizes.items():
        for lang, word in (("en", "dog"), ("de", "Hund")):
            text = "".join(f"{word} {stem} {i}\n" for i in range(n)).encode()
            for rel, data in (
                (f"raw/{stem}.{lang}.gz", gzip.compress(text, mtime=0)),
                (f"tok/{stem}.lc.norm.tok.{lang}", text.lower()),
            ):
                (task1 / rel).parent.mkdir(parents=True, exist_ok=True)
                (task1 / rel).write_bytes(data)
                sums[rel] = hashlib.sha256(data).hexdigest()
    server = _Server(tmp_path / "www")
    spec = dataclasses.replace(registry.MULTI30K, base_url=server.url, sha256=sums)
    monkeypatch.setitem(registry.DATASETS, "multi30k", spec)
    yield server, spec
    server.close()


def _cache_files(cache: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    )


def test_download_verify_and_cache(fake_multi30k, tmp_path):
    server, _ = fake_multi30k
    cache = tmp_path / "mycache"
    data = load_dataset("multi30k", "en", "de", cache_dir=cache)
    assert [len(data[s][0]) for s in ("train", "valid", "test")] == [5, 3, 2]
    assert data["valid"] == (
        ["dog val 0", "dog val 1", "dog val 2"],
        ["Hund val 0", "Hund val 1", "Hund val 2"],
    )
    assert len(server.requests) == 6 and all(r.startswith("/data/task1/raw/") for r in server.requests)
    # the cache mirrors the repository layout, with no temporary files left behind
    stems = ("train", "val", "test_2016_flickr")
    expected = sorted(f"datasets/multi30k/raw/{s}.{lang}.gz" for s in stems for lang in ("en", "de"))
    assert _cache_files(cache) == expected
    # second load: from the cache, no HTTP request at all
    again = load_dataset("multi30k", "en", "de", cache_dir=cache)
    assert again == data and len(server.requests) == 6
    # a filled cache is itself a valid data_dir
    assert load_dataset("multi30k", "en", "de", data_dir=cache / "datasets/multi30k") == data
    # references are downloaded on demand
    refs = tokenized_references("multi30k", "en", "de", "test", cache_dir=cache)
    assert refs == ["hund test_2016_flickr 0", "hund test_2016_flickr 1"]
    assert server.requests[-1] == "/data/task1/tok/test_2016_flickr.lc.norm.tok.de"


def test_default_cache_is_ronbun_cache_env(fake_multi30k, tmp_path):
    server, _ = fake_multi30k
    load_dataset("multi30k", "en", "de", splits=("test",))
    assert (tmp_path / "cache/datasets/multi30k/raw/test_2016_flickr.de.gz").is_file()
    assert len(server.requests) == 2


def test_checksum_mismatch_leaves_nothing_in_the_cache(fake_multi30k, tmp_path, monkeypatch):
    server, spec = fake_multi30k
    sums = dict(spec.sha256, **{"raw/val.de.gz": "0" * 64})
    monkeypatch.setitem(registry.DATASETS, "multi30k", dataclasses.replace(spec, sha256=sums))
    cache = tmp_path / "c"
    with pytest.raises(DataError) as info:
        load_dataset("multi30k", "en", "de", cache_dir=cache, splits=("valid",))
    msg = str(info.value)
    assert "checksum mismatch" in msg and server.url + "raw/val.de.gz" in msg and "0" * 64 in msg
    assert "\n" not in msg
    files = _cache_files(cache)
    assert "datasets/multi30k/raw/val.de.gz" not in files
    assert files == ["datasets/multi30k/raw/val.en.gz"]  # the good file stays; no partial file


def test_corrupt_cache_entry_is_fetched_again(fake_multi30k, tmp_path):
    server, _ = fake_multi30k
    cache = tmp_path / "c"
    load_dataset("multi30k", "en", "de", cache_dir=cache, splits=("test",))
    target = cache / "datasets/multi30k/raw/test_2016_flickr.en.gz"
    target.write_bytes(b"garbage")
    n = len(server.requests)
    data = load_dataset("multi30k", "en", "de", cache_dir=cache, splits=("test",))
    assert data["test"][0] == ["dog test_2016_flickr 0", "dog test_2016_flickr 1"]
    assert server.requests[n:] == ["/data/task1/raw/test_2016_flickr.en.gz"]


def test_http_error_is_a_clear_data_error(fake_multi30k, tmp_path):
    server, _ = fake_multi30k
    (server.root / "data/task1/raw/train.de.gz").unlink()
    with pytest.raises(DataError, match=r"cannot download .*raw/train\.de\.gz .*RONBUN_DATA_DIR"):
        load_dataset("multi30k", "en", "de", cache_dir=tmp_path / "c", splits=("train",))
    assert not (tmp_path / "c/datasets/multi30k/raw/train.de.gz").exists()
    assert not list((tmp_path / "c").rglob("*.part"))


def test_load_dataset_takes_the_arguments_of_load_corpora() -> None:
    import inspect

    assert inspect.signature(load_dataset).parameters == inspect.signature(load_corpora).parameters
    assert load_dataset.__name__ == "load_dataset" and "(src_lines, tgt_lines)" in (
        load_dataset.__doc__ or ""
    )
