"""Named translation datasets: where to get them, how to check them, where to keep them.

§5.1 Training Data and Batching trains on WMT 2014 En-De/En-Fr; ronbun's laptop-sized stand-ins are

* ``multi30k`` — Multi30k task 1 (Elliott et al. 2016), En↔De image descriptions, the usual small
  benchmark: train 29,000 / valid 1,014 / test 1,000 pairs ("test2016"). Files come from the official
  repository (github.com/multi30k/dataset), pinned to one commit and checked against sha256 sums.
* ``builtin`` — the generated corpus of :mod:`ronbun.data.synthetic` (no download at all).

Where files come from, in this order:

1. ``data_dir=`` (or the ``RONBUN_DATA_DIR`` environment variable): a local folder laid out like the
   repository's ``data/task1`` — ``raw/train.en.gz`` … and ``tok/train.lc.norm.tok.en`` … — or a folder
   holding such a folder named after the dataset (``$RONBUN_DATA_DIR/multi30k/raw/...``). An explicit
   ``data_dir`` must contain the files; an environment folder that lacks the dataset is skipped.
2. The cache, ``$RONBUN_CACHE`` or ``~/.cache/ronbun`` (``cache_dir=`` overrides), under
   ``datasets/<name>/`` with the same layout, so a filled cache is itself a valid ``data_dir``.
   Missing files are downloaded with :mod:`urllib` into a temporary file next to their destination,
   checked against their sha256 and only then renamed into place (atomic), so an interrupted or corrupt
   download never leaves a file that looks valid. Cached files are re-checked on every use.

Splits are always called ``train``, ``valid`` and ``test``. The Multi30k literature reports BLEU on the
lower-cased, Moses-tokenised references (``tok/test_2016_flickr.lc.norm.tok.de``):
:func:`tokenized_references` returns them.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec

from ronbun.data.errors import DataError
from ronbun.data.parallel import ParallelCorpus, read_lines, read_parallel, validate_pairs

SPLITS = ("train", "valid", "test")

P = ParamSpec("P")

MULTI30K_COMMIT = "a3d2e0d26b56f3846f66a952536ffed4e401d05a"
MULTI30K_BASE_URL = f"https://raw.githubusercontent.com/multi30k/dataset/{MULTI30K_COMMIT}/data/task1/"


@dataclass(frozen=True)
class RemoteDataset:
    """A parallel dataset published as files: ``raw`` (original text) and ``tok`` (lc.norm.tok) variants."""

    name: str
    description: str
    langs: tuple[str, ...]
    splits: dict[str, str]  # our split name → file stem
    base_url: str
    sha256: dict[str, str]  # relative path → sha256 hex digest
    raw_pattern: str = "raw/{stem}.{lang}.gz"
    tok_pattern: str = "tok/{stem}.lc.norm.tok.{lang}"
    citation: str = ""

    def relpath(self, split: str, lang: str, *, tokenized: bool = False) -> str:
        if split not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {split!r} (has {', '.join(self.splits)})")
        pattern = self.tok_pattern if tokenized else self.raw_pattern
        return pattern.format(stem=self.splits[split], lang=lang)

    def url(self, relpath: str) -> str:
        return self.base_url.rstrip("/") + "/" + relpath


@dataclass(frozen=True)
class BuiltinDataset:
    """The generated corpus of :mod:`ronbun.data.synthetic` (English → German-like, no download)."""

    name: str = "builtin"
    description: str = "generated En-De corpus (ronbun.data.synthetic): 40,000 / 1,000 / 1,000 pairs"
    langs: tuple[str, ...] = ("en", "de")
    options: dict[str, int] = field(
        default_factory=lambda: {"n_train": 40_000, "n_valid": 1_000, "n_test": 1_000}
    )


MULTI30K = RemoteDataset(
    name="multi30k",
    description="Multi30k task 1 (WMT16 multimodal), En-De image descriptions: 29,000 / 1,014 / 1,000 pairs",
    langs=("en", "de"),
    splits={"train": "train", "valid": "val", "test": "test_2016_flickr"},
    base_url=MULTI30K_BASE_URL,
    sha256={
        "raw/train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        "raw/train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        "raw/val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        "raw/val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        "raw/test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        "raw/test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        "tok/train.lc.norm.tok.en": "08925f8e0572bcd5a006702fc5fe20e2d77c6917d4eebd576fc20de6693c2119",
        "tok/train.lc.norm.tok.de": "cb5a23529b65ec2061f1dc446192a9c37382b63cc75f81a0be59d34894b3a505",
        "tok/val.lc.norm.tok.en": "46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec",
        "tok/val.lc.norm.tok.de": "97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00",
        "tok/test_2016_flickr.lc.norm.tok.en": "5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2",
        "tok/test_2016_flickr.lc.norm.tok.de": "c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4",
    },
    citation="Elliott, Frank, Sima'an and Specia (2016), Multi30K: Multilingual English-German Image "
    "Descriptions, Proc. 5th Workshop on Vision and Language. Non-commercial research/education use.",
)

DATASETS: dict[str, RemoteDataset | BuiltinDataset] = {"multi30k": MULTI30K, "builtin": BuiltinDataset()}


def list_datasets() -> list[str]:
    return sorted(DATASETS)


def _spec(name: str) -> RemoteDataset | BuiltinDataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(list_datasets())})") from None


def _check_langs(spec: RemoteDataset | BuiltinDataset, src_lang: str, tgt_lang: str) -> None:
    for lang in (src_lang, tgt_lang):
        if lang not in spec.langs:
            raise DataError(f"dataset {spec.name!r} has no language {lang!r} (has {', '.join(spec.langs)})")
    if src_lang == tgt_lang:
        raise DataError(f"source and target language are both {src_lang!r}")


# ---------------------------------------------------------------------------------------- files


def default_cache_dir() -> Path:
    """``$RONBUN_CACHE`` if set, else ``~/.cache/ronbun``."""
    env = os.environ.get("RONBUN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ronbun"


def dataset_cache_dir(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / "datasets" / name


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: str | os.PathLike[str], sha256: str, *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest``: into a temporary file first, verify, then rename atomically.

    Raises:
        DataError: the download failed, or its sha256 is not ``sha256`` (nothing is left behind).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(1 << 16):
                h.update(chunk)
                f.write(chunk)
        got = h.hexdigest()
        if got != sha256:
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {sha256}, got {got}; the file was not cached"
            )
        os.replace(tmp, dest)
    except urllib.error.URLError as e:  # includes HTTPError
        raise DataError(
            f"cannot download {url} ({e.reason}); set RONBUN_DATA_DIR to a local copy of the dataset"
        ) from None
    except (OSError, http.client.HTTPException) as e:  # timeouts, resets, truncated responses
        raise DataError(f"cannot download {url} ({e}); set RONBUN_DATA_DIR to a local copy") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _local_root(spec: RemoteDataset, data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The local folder holding ``spec``'s files, from ``data_dir`` or ``$RONBUN_DATA_DIR``."""
    explicit = data_dir is not None
    folder = data_dir if explicit else os.environ.get("RONBUN_DATA_DIR")
    if not folder:
        return None
    base = Path(folder).expanduser()
    for candidate in (base, base / spec.name):
        if any((candidate / sub).is_dir() for sub in ("raw", "tok")):
            return candidate
    if explicit:
        raise DataError(
            f"{base}: no {spec.name} files here (expected {base}/raw/*.gz or {base}/{spec.name}/raw/*.gz)"
        )
    return None  # $RONBUN_DATA_DIR is about other datasets: use the cache


def dataset_file(
    name: str,
    relpath: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Path of one file of a remote dataset: the local copy if there is one, else the (verified) cache,
    downloading it first if needed."""
    spec = _spec(name)
    if not isinstance(spec, RemoteDataset):
        raise DataError(f"dataset {name!r} has no files")
    local = _local_root(spec, data_dir)
    if local is not None:
        path = local / relpath
        if not path.is_file():
            raise DataError(f"{path}: missing (local copy of {name} in {local})")
        return path
    if relpath not in spec.sha256:
        raise DataError(f"{name}: no checksum known for {relpath!r}; cannot download it safely")
    expected = spec.sha256[relpath]
    path = dataset_cache_dir(name, cache_dir) / relpath
    if path.is_file():
        if sha256_file(path) == expected:
            return path
        path.unlink()  # corrupt or stale cache entry: fetch again
    return download(spec.url(relpath), path, expected)


def download_dataset(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Fetch (or verify) every file of a remote dataset into the cache; returns its cache folder."""
    spec = _spec(name)
    if not isinstance(spec, RemoteDataset):
        raise DataError(f"dataset {name!r} is generated, there is nothing to download")
    for relpath in spec.sha256:
        dataset_file(name, relpath, cache_dir=cache_dir, data_dir=None)
    return dataset_cache_dir(name, cache_dir)


# ---------------------------------------------------------------------------------------- loading


def load_corpora(
    name: str,
    src_lang: str,
    tgt_lang: str,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    tokenized: bool = False,
    splits: tuple[str, ...] = SPLITS,
) -> dict[str, ParallelCorpus]:
    """Each split of a named dataset as a :class:`~ronbun.data.parallel.ParallelCorpus` (its sentence
    pairs with their :class:`~ronbun.data.parallel.ValidationReport`).

    Training pairs with an empty side are dropped (and counted); evaluation splits keep every line so
    that they stay aligned with their references.

    Args:
        name: ``"multi30k"`` or ``"builtin"`` (see :func:`list_datasets`).
        src_lang, tgt_lang: ``"en"``/``"de"`` in either direction.
        data_dir: a local copy (see the module docstring); default ``$RONBUN_DATA_DIR``, then the cache.
        cache_dir: cache root (default ``$RONBUN_CACHE`` or ``~/.cache/ronbun``).
        tokenized: use the lower-cased, Moses-tokenised files (``tok/*.lc.norm.tok.*``) instead of the
            original text, as much of the Multi30k literature does.
        splits: which splits to load.
    """
    spec = _spec(name)
    _check_langs(spec, src_lang, tgt_lang)
    out: dict[str, ParallelCorpus] = {}
    if isinstance(spec, BuiltinDataset):
        if tokenized:
            raise DataError("dataset 'builtin' has no tokenised variant (tokenized=True)")
        from ronbun.data.synthetic import generate_corpus

        generated = generate_corpus(**spec.options)
        for split in splits:
            en, de = generated[split]
            src, tgt = (en, de) if src_lang == "en" else (de, en)
            names = {"src_name": f"builtin:{split}.{src_lang}", "tgt_name": f"builtin:{split}.{tgt_lang}"}
            out[split] = validate_pairs(src, tgt, **names)
        return out
    for split in splits:
        src, tgt = (
            dataset_file(
                name, spec.relpath(split, lang, tokenized=tokenized), data_dir=data_dir, cache_dir=cache_dir
            )
            for lang in (src_lang, tgt_lang)
        )
        out[split] = read_parallel(src, tgt, empty="drop" if split == "train" else "keep")
    return out


Pairs = dict[str, tuple[list[str], list[str]]]


def _as_pairs(load: Callable[P, dict[str, ParallelCorpus]]) -> Callable[P, Pairs]:
    """``load`` with the same arguments, returning each split's ``(src_lines, tgt_lines)``."""

    @functools.wraps(load, assigned=(), updated=())  # the signature shown is ``load``'s
    def load_dataset(*args: P.args, **kwargs: P.kwargs) -> Pairs:
        """Sentence pairs of a named dataset: ``{"train"|"valid"|"test": (src_lines, tgt_lines)}``; the
        arguments are :func:`load_corpora`'s."""
        return {split: (c.src, c.tgt) for split, c in load(*args, **kwargs).items()}

    return load_dataset


load_dataset = _as_pairs(load_corpora)


def reference_path(
    name: str,
    split: str,
    lang: str,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path | None:
    """The lower-cased tokenised reference file of ``split`` in ``lang`` (e.g. Multi30k's
    ``tok/test_2016_flickr.lc.norm.tok.de``), or ``None`` for datasets that have none."""
    spec = _spec(name)
    if not isinstance(spec, RemoteDataset):
        return None
    if lang not in spec.langs:
        raise DataError(f"dataset {name!r} has no language {lang!r} (has {', '.join(spec.langs)})")
    return dataset_file(
        name, spec.relpath(split, lang, tokenized=True), data_dir=data_dir, cache_dir=cache_dir
    )


def tokenized_references(
    name: str,
    src_lang: str,
    tgt_lang: str,
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[str] | None:
    """Lines of the tokenised target-side references of ``split`` (``None`` where there are none).

    They are line-aligned with ``load_dataset(...)[split]`` (evaluation splits never drop lines).
    """
    spec = _spec(name)
    _check_langs(spec, src_lang, tgt_lang)
    path = reference_path(name, split, tgt_lang, data_dir, cache_dir)
    return None if path is None else read_lines(path)
