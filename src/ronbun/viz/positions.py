"""§3.5 positional encoding as pictures: the sinusoid matrix ``PE (length, d_model)`` and the dot-product
similarity ``PE · PEᵀ`` between positions.

Each pair of dimensions (2i, 2i+1) is a sine/cosine of one frequency, the wavelengths forming a geometric
progression from 2π to 10000·2π (§3.5).  Because ``PE(pos+k)`` is a fixed linear function (a rotation in
every pair) of ``PE(pos)``, the dot product ``PE(p)·PE(q) = Σ_i cos((p−q)·ω_i)`` depends only on the offset
``p − q``: the similarity matrix is a symmetric Toeplitz matrix that peaks on the diagonal and decays with
distance.  ``ronbun viz positions --d-model 512 --length 100 --out pe.png`` draws both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..nn.embeddings import SinusoidLayout, sinusoid_table
from .saving import save_figure


@dataclass
class PositionsFigure:
    """What :func:`plot_positions` drew: the arrays read back from the figure's images, and the file."""

    path: Path
    table: np.ndarray  # (length, d_model): the PE matrix as drawn
    similarity: np.ndarray  # (length, length): PE · PEᵀ as drawn


def positions_data(
    d_model: int = 512, length: int = 100, layout: SinusoidLayout = "interleaved"
) -> tuple[np.ndarray, np.ndarray]:
    """``(PE (length, d_model), PE·PEᵀ (length, length))`` from :func:`ronbun.nn.embeddings.sinusoid_table`."""
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    table = sinusoid_table(length, d_model, layout).numpy()
    return table, table @ table.T


def wavelength_dims(d_model: int, wavelengths: tuple[float, ...]) -> list[int]:
    """The even (sine) dimension ``2i`` whose wavelength ``2π·10000^(2i/d_model)`` is nearest each target."""
    out = []
    for wl in wavelengths:
        i = round(d_model / 2 * math.log(max(wl, 2 * math.pi) / (2 * math.pi)) / math.log(10000.0))
        out.append(min(2 * i, d_model - 2))
    return out


def plot_positions(
    out: str | Path,
    *,
    d_model: int = 512,
    length: int = 100,
    layout: SinusoidLayout = "interleaved",
    curves: tuple[int, ...] | None = None,
) -> PositionsFigure:
    """Three panels: the PE matrix (positions × dimensions), ``PE·PEᵀ``, and a few dimensions as curves
    over position (default: a sine/cosine pair with a wavelength of about 10 positions, and the sines whose
    wavelengths are about 25, 60 and 150 positions: the geometric progression of §3.5)."""
    table, sim = positions_data(d_model, length, layout)
    if curves is None:
        curves = tuple(
            sorted(
                {
                    *wavelength_dims(d_model, (10.0, 25.0, 60.0, 150.0)),
                    wavelength_dims(d_model, (10.0,))[0] + 1,
                }
            )
        )
    fig = plt.figure(figsize=(15, 4.6))
    grid = fig.add_gridspec(1, 3, width_ratios=[1.35, 1.0, 1.1])
    a = fig.add_subplot(grid[0])
    im_pe = a.imshow(table, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    a.set_xlabel("dimension (even: sin, odd: cos)" if layout == "interleaved" else "dimension (sin | cos)")
    a.set_ylabel("position")
    a.set_title(f"PE matrix, d_model={d_model} (§3.5)", fontsize=10)
    fig.colorbar(im_pe, ax=a, fraction=0.04)
    b = fig.add_subplot(grid[1])
    im_sim = b.imshow(sim, cmap="viridis", aspect="equal", interpolation="nearest")
    b.set_xlabel("position")
    b.set_ylabel("position")
    b.set_title("dot product PE(p)·PE(q): depends on p−q only", fontsize=10)
    fig.colorbar(im_sim, ax=b, fraction=0.04)
    c = fig.add_subplot(grid[2])
    pos = np.arange(length)
    for dim in curves:
        if dim < d_model:
            kind = ("sin" if dim % 2 == 0 else "cos") if layout == "interleaved" else ""
            wl = 2 * math.pi * 10000.0 ** ((dim - dim % 2) / d_model) if layout == "interleaved" else None
            extra = f", wavelength {wl:.0f}" if wl else ""
            c.plot(pos, table[:, dim], label=f"dim {dim} {kind}{extra}".strip())
    c.set_xlabel("position")
    c.set_ylabel("PE value")
    c.set_ylim(-1.15, 1.15)
    c.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    c.set_title("a few dimensions over position", fontsize=10)
    fig.tight_layout()
    drawn_pe = np.asarray(im_pe.get_array())
    drawn_sim = np.asarray(im_sim.get_array())
    return PositionsFigure(path=save_figure(fig, out), table=drawn_pe, similarity=drawn_sim)
