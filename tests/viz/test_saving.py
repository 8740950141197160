"""The one way a figure is written: its folder is created, the file written, the figure closed."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ronbun.viz.saving import save_figure


def test_save_figure_creates_folder_writes_and_closes(tmp_path: Path) -> None:
    fig = plt.figure(figsize=(2, 2))
    fig.gca().plot([0, 1], [1, 0])
    out = save_figure(fig, tmp_path / "new" / "folder" / "line.png", dpi=50)
    assert out == tmp_path / "new" / "folder" / "line.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)
