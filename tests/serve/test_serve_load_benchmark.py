"""The serving load test (``python -m benchmarks.serve_load``) runs end to end on a tiny checkpoint and
reports both modes with no errors, and its overload mode sees the surplus refused with 503 while every
accepted request is answered; its numbers are recorded in docs/performance.md, not checked here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from serving import tiny_checkpoints

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import serve_load  # noqa: E402


def load_args(tmp_path, monkeypatch, clients: int) -> list[str]:
    """A tiny checkpoint, two sentences to post, results into ``tmp_path``: the load test's first arguments."""
    mt, _ = tiny_checkpoints(tmp_path)
    sentences = tmp_path / "src.txt"
    sentences.write_text("The man sees the dog.\nThe woman reads.\n", encoding="utf-8")
    monkeypatch.setattr(serve_load, "RESULTS", tmp_path / "results")
    return [
        str(mt),
        "--sentences",
        str(sentences),
        "--clients",
        str(clients),
        "--seconds",
        "1",
        "--beam",
        "1",
    ]


def test_the_load_test_compares_batching_with_one_at_a_time(tmp_path, monkeypatch, capsys):
    argv = load_args(tmp_path, monkeypatch, clients=3)
    assert serve_load.main([*argv, "--threads", "1"]) == 0
    report = json.loads((tmp_path / "results" / "serve_load.json").read_text())
    for mode in ("dynamic batching", "one at a time"):
        assert report["results"][mode]["requests_ok"] > 0 and report["results"][mode]["errors"] == {}
    assert report["results"]["one at a time"]["mean_batch"] == 1.0
    assert report["throughput_ratio"] > 0 and "× throughput" in capsys.readouterr().out


def test_streams_add_a_batching_server_that_decodes_two_batches_at_once(tmp_path, monkeypatch, capsys):
    argv = load_args(tmp_path, monkeypatch, clients=4)
    assert serve_load.main([*argv, "--threads", "2", "--streams", "2"]) == 0
    report = json.loads((tmp_path / "results" / "serve_load.json").read_text())
    two = report["results"]["dynamic batching, 2 streams"]
    assert two["requests_ok"] > 0 and two["errors"] == {} and two["malformed"] == {}
    assert report["streams_ratio"] > 0 and "2 streams / 1 stream" in capsys.readouterr().out


def test_an_overloaded_queue_refuses_with_503_and_answers_everything_it_accepted(
    tmp_path, monkeypatch, capsys
):
    argv = load_args(tmp_path, monkeypatch, clients=2)
    overload = ["--overload", "--overload-max-queue", "1", "--overload-clients", "12", "--max-batch", "2"]
    assert serve_load.main([*argv, *overload, "--threads", "1"]) == 0
    report = json.loads((tmp_path / "results" / "serve_load.json").read_text())
    assert report["overload"]["refused_503"] > 0  # 12 clients, one batch of 2 running, a queue of 1
    assert report["overload"]["other_errors"] == {} and report["overload"]["all_others_ok"]
    assert (
        report["results"]["overload"]["requests_ok"] > 0 and report["results"]["overload"]["malformed"] == {}
    )
    assert "refused with 503" in capsys.readouterr().out


def test_answers_are_checked_against_their_status():
    assert serve_load.well_formed(200, {"model": "mt", "translations": ["Der Hund."]})
    assert not serve_load.well_formed(200, {"model": "mt", "translations": []})
    assert not serve_load.well_formed(200, {})
    assert serve_load.well_formed(503, {"error": "the server is busy", "status": 503})
    assert not serve_load.well_formed(503, {"error": "busy", "status": 500})
