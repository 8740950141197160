"""Table 1 of "Attention Is All You Need" (§4, "Why Self-Attention") made empirical.

Table 1 compares one layer that maps a sequence of ``n`` vectors of size ``d`` to another:

=====================  ===================  ===================  =====================
layer                  cost per layer       sequential ops       maximum path length
=====================  ===================  ===================  =====================
self-attention         O(n²·d)              O(1)                 O(1)
recurrent              O(n·d²)              O(n)                 O(n)
convolutional          O(k·n·d²)            O(1)                 O(log_k n) (dilated)
restricted (r)         O(r·n·d)             O(1)                 O(n/r)
=====================  ===================  ===================  =====================

:func:`measure` times the forward pass of each layer on one CPU thread (or the current device) as ``n`` and
``d`` grow, and measures its activation memory as the bytes of the tensors autograd saves for the backward
pass plus the output (deterministic, the same on every machine; on a GPU the peak allocation is recorded
too).  Self-attention is measured twice: Eq. 1 spelled out (the n×n weights are stored) and PyTorch's fused
kernel (which recomputes them in the backward pass, so its memory grows only linearly in n).  Restricted
self-attention (each position attends to a neighbourhood of r positions, :func:`ronbun.nn.masks.local_mask`) is
the same :class:`~ronbun.nn.attention.MultiHeadAttention` with a banded keep-mask, measured twice as well: the
mask over all n×n scores (what a model with ``attention_window=r`` runs: the masked scores are still computed,
so the cost stays O(n²·d)) and the same mask on blocks of r queries with only the keys their band can reach
(:class:`RestrictedSelfAttention` ``blocked=True``: O(r·n·d), Table 1's row).
:func:`path_lengths` measures the maximum path length by probing gradients: how many layer (or cell)
applications a signal needs to get from input position 0 to output position n−1.  ``benchmarks/
layer_complexity.py`` writes the results to JSON + CSV; ``ronbun viz complexity DATA --out FIG`` plots them.
"""

from __future__ import annotations

import csv
import json
import math
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import Tensor, nn

from ..nn.attention import MultiHeadAttention
from ..nn.masks import local_mask, self_attention_mask
from .saving import save_figure

LAYERS = (
    "self_attention",
    "self_attention_fused",
    "recurrent",
    "lstm",
    "convolutional",
    "restricted_self_attention",
    "restricted_self_attention_masked",
)
#: Restricted self-attention's neighbourhood r when none is given (odd: exactly r keys, ``local_mask``).
WINDOW = 15
LABELS = {
    "self_attention": "self-attention (Eq. 1 spelled out)",
    "self_attention_fused": "self-attention (fused SDPA kernel)",
    "recurrent": "recurrent (RNN cell, unrolled)",
    "lstm": "recurrent (nn.LSTM, fused)",
    "convolutional": "convolutional (Conv1d)",
    "restricted_self_attention": "restricted self-attention r={r} (band only)",
    "restricted_self_attention_masked": "restricted self-attention r={r} (banded mask over n×n)",
}
THEORY = {
    "self_attention": ("O(n²·d)", "O(1)", "O(1)"),
    "self_attention_fused": ("O(n²·d)", "O(1)", "O(1)"),
    "recurrent": ("O(n·d²)", "O(n)", "O(n)"),
    "lstm": ("O(n·d²)", "O(n)", "O(n)"),
    "convolutional": ("O(k·n·d²)", "O(1)", "O(log_k n) dilated, O(n/k) contiguous"),
    "restricted_self_attention": ("O(r·n·d)", "O(1)", "O(n/r)"),
    "restricted_self_attention_masked": ("O(n²·d) computed, O(r·n·d) used", "O(1)", "O(n/r)"),
}


class UnrolledRNN(nn.Module):
    """A plain Elman RNN layer, ``h_t = tanh(W x_t + U h_{t-1} + b)``, unrolled step by step: its n
    sequential operations are visible as a Python loop (Table 1's O(n) sequential operations)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.cell = nn.RNNCell(d, d)

    def forward(self, x: Tensor) -> Tensor:  # (B, n, d) → (B, n, d)
        h = x.new_zeros(x.shape[0], x.shape[2])
        out = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        return torch.stack(out, dim=1)


class LSTMLayer(nn.Module):
    """``nn.LSTM`` with ``d`` hidden units (one fused kernel; still n sequential steps inside)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(d, d, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.lstm(x)[0]


class ConvLayer(nn.Module):
    """A 1-D convolution of width ``k`` mapping d → d channels with the length preserved: "same" padding, or
    ``causal`` (left) padding as in ByteNet/WaveNet.  ``dilation`` > 1 gives the dilated convolutions whose
    stacks (dilations 1, k, k², …) reach O(log_k n) path length (§4)."""

    def __init__(self, d: int, k: int = 3, dilation: int = 1, causal: bool = False) -> None:
        super().__init__()
        self.left = (k - 1) * dilation if causal else 0
        self.conv = nn.Conv1d(d, d, k, padding=0 if causal else "same", dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:  # (B, n, d)
        h = x.transpose(1, 2)
        if self.left:
            h = nn.functional.pad(h, (self.left, 0))
        return self.conv(h).transpose(1, 2)


class SelfAttentionLayer(nn.Module):
    """ronbun's §3.2.2 multi-head self-attention (``d_k = d / h``), the spelled-out Eq. 1 path or SDPA."""

    def __init__(self, d: int, heads: int = 4, impl: str = "sdpa") -> None:
        super().__init__()
        h = heads if d % heads == 0 else 1
        self.attn = MultiHeadAttention(d, h, d // h, d // h, impl=impl)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        return self.attn(x)[0]


class RestrictedSelfAttention(nn.Module):
    """Table 1's last row (§4, §7 "local, restricted attention"): ronbun's multi-head self-attention with
    the banded keep-mask of :func:`ronbun.nn.masks.local_mask` — position i attends to the r positions
    ``|i - j| <= r // 2`` — passed to the same Eq. 1.

    ``blocked=False`` masks all n×n scores (the masked ones are computed and thrown away: O(n²·d)).
    ``blocked=True`` gives the same output at O(r·n·d): the sequence is cut into blocks of r queries, each
    with the r // 2 positions on either side that its band reaches, and the blocks are one batch of windows
    of 2·(r // 2) + r positions (the edges padded, padding masked out)."""

    def __init__(self, d: int, heads: int = 4, window: int = WINDOW, blocked: bool = True) -> None:
        super().__init__()
        h = heads if d % heads == 0 else 1
        self.attn = MultiHeadAttention(d, h, d // h, d // h, impl="math")
        self.window, self.blocked = window, blocked

    def forward(self, x: Tensor) -> Tensor:  # (B, n, d) → (B, n, d)
        b, n, d = x.shape
        if not self.blocked:
            return self.attn(x, mask=local_mask(n, n, self.window, causal=False, device=x.device))[0]
        half, block = self.window // 2, self.window
        m = -(-n // block)  # blocks of queries
        span = block + 2 * half  # the keys one block's band reaches
        padded = nn.functional.pad(x, (0, 0, half, m * block - n + half))  # (B, m·block + 2·half, d)
        windows = padded.unfold(1, span, block).permute(0, 1, 3, 2).reshape(b * m, span, d)
        position = torch.arange(padded.shape[1], device=x.device) - half
        real = ((position >= 0) & (position < n)).unfold(0, span, block)  # (m, span)
        keep = real.repeat(b, 1)[:, None, None, :]  # (B·m, 1, 1, span)
        mask, _ = self_attention_mask(
            span, span, causal=False, window=self.window, key_keep=keep, device=x.device
        )
        out = self.attn(windows, mask=mask)[0]  # (B·m, span, d)
        return out[:, half : half + block].reshape(b, m * block, d)[:, :n]


def make_layer(name: str, d: int, k: int = 3, heads: int = 4, window: int = WINDOW) -> nn.Module:
    """One of :data:`LAYERS` at model width ``d`` (``window``: restricted self-attention's r)."""
    if name == "self_attention":
        return SelfAttentionLayer(d, heads, impl="math")
    if name == "self_attention_fused":
        return SelfAttentionLayer(d, heads, impl="sdpa")
    if name == "recurrent":
        return UnrolledRNN(d)
    if name == "lstm":
        return LSTMLayer(d)
    if name == "convolutional":
        return ConvLayer(d, k)
    if name in ("restricted_self_attention", "restricted_self_attention_masked"):
        return RestrictedSelfAttention(d, heads, window, blocked=name == "restricted_self_attention")
    raise ValueError(f"unknown layer {name!r}; choose from {', '.join(LAYERS)}")


def saved_activation_bytes(layer: nn.Module, x: Tensor) -> int:
    """Activation memory of ``layer(x)`` in a training step: the bytes of the tensors autograd keeps for the
    backward pass plus the output (each storage once; the layer's parameters and its input excluded)."""
    seen: dict[Any, int] = {}
    skip = {p.untyped_storage().data_ptr() for p in layer.parameters()} | {x.untyped_storage().data_ptr()}

    def pack(t: Tensor) -> Tensor:
        st = t.untyped_storage()
        if st.data_ptr() not in skip:
            seen[st.data_ptr()] = st.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = layer(x.requires_grad_(True))
    pack(out)
    return sum(seen.values())


def time_forward(layer: nn.Module, x: Tensor, repeats: int = 5) -> float:
    """Fastest of ``repeats`` wall times of ``layer(x)`` under ``no_grad`` in milliseconds, after one warm-up
    call (the minimum is the least disturbed by other work on a shared machine)."""
    sync: Callable[[], None] = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    times = []
    with torch.no_grad():
        layer(x)
        sync()
        for _ in range(repeats):
            t0 = time.perf_counter()
            layer(x)
            sync()
            times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


def flops(name: str, n: int, d: int, k: int = 3, window: int = WINDOW) -> float:
    """Multiply-adds of one forward pass (the Table 1 "complexity per layer" with its constants)."""
    if name in ("self_attention", "self_attention_fused", "restricted_self_attention_masked"):
        return 4 * n * d * d + 2 * n * n * d  # Q, K, V, O projections + QKᵀ and A·V (masked: all n² scores)
    if name == "restricted_self_attention":
        return 4 * n * d * d + 2 * n * window * d  # r keys per query
    if name == "recurrent":
        return 2 * n * d * d
    if name == "lstm":
        return 8 * n * d * d
    if name == "convolutional":
        return k * n * d * d
    raise ValueError(name)


def _probe(layers: Sequence[nn.Module], n: int, d: int, target: int = -1, source: int = 0) -> bool:
    """Does output position ``target`` depend on input position ``source`` after ``layers``?"""
    x = torch.randn(1, n, d, dtype=torch.float64, requires_grad=True)  # float64: long RNN paths underflow
    h = x
    for layer in layers:
        h = layer.double()(h)
    h[0, target].sum().backward()
    assert x.grad is not None
    return bool(x.grad[0, source].abs().sum() > 0)


def _layers_until_connected(make: Callable[[int], nn.Module], n: int, d: int) -> int:
    """How many layers ``make(i)`` (i = 0, 1, …) must be stacked before output n−1 depends on input 0."""
    stack: list[nn.Module] = []
    while True:
        stack.append(make(len(stack)))
        if _probe(stack, n, d):
            return len(stack)
        if len(stack) > n:
            raise RuntimeError("the stack never connected the end points")


def path_lengths(
    n_values: Sequence[int], d: int = 8, k: int = 3, seed: int = 0, window: int = WINDOW
) -> list[dict[str, Any]]:
    """The maximum path length between input position 0 and output position n−1, measured.

    Self-attention, restricted self-attention and (causal) convolutions: the number of stacked layers until
    the gradient of the last output with respect to the first input is non-zero (a neighbourhood of r =
    ``window``: ⌈(n−1)/(r // 2)⌉; contiguous kernels: ⌈(n−1)/(k−1)⌉; dilations 1, k, k², …: ⌈log_k n⌉).  Recurrent: one layer already connects them, but through n−1 applications of the cell, each
    a node on the path; the probe checks the dependency and counts the cell applications."""
    torch.manual_seed(seed)
    rows: list[dict[str, Any]] = []
    for n in n_values:
        attn = SelfAttentionLayer(d, 1, impl="math")
        if not _probe([attn], n, d) or not _probe([UnrolledRNN(d)], n, d):
            raise RuntimeError(f"a single layer should connect positions 0 and {n - 1}")  # pragma: no cover
        found = {
            "self_attention": 1,
            "recurrent": n - 1,
            "convolutional": _layers_until_connected(lambda _i: ConvLayer(d, k, causal=True), n, d),
            "convolutional_dilated": _layers_until_connected(
                lambda i: ConvLayer(d, k, k**i, causal=True), n, d
            ),
            "restricted_self_attention": _layers_until_connected(
                lambda _i: RestrictedSelfAttention(d, 1, window, blocked=False), n, d
            ),
        }
        for name, value in found.items():
            rows.append({"layer": name, "n": n, "k": k, "r": window, "path_length": value})
    return rows


def measure(
    n_values: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024),
    d_values: Sequence[int] = (32, 64, 128, 256, 512),
    *,
    d_fixed: int = 64,
    n_fixed: int = 64,
    k: int = 3,
    heads: int = 4,
    window: int = WINDOW,
    batch: int = 4,
    repeats: int = 7,
    layers: Sequence[str] = LAYERS,
    device: str = "cpu",
    path_n: Sequence[int] = (4, 8, 16, 32, 64, 128),
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Time and activation memory of every layer as ``n`` grows (``d = d_fixed``) and as ``d`` grows
    (``n = n_fixed``), plus measured maximum path lengths; ``window`` is restricted self-attention's r.
    Returns a JSON-serialisable dict."""
    torch.manual_seed(0)
    rows: list[dict[str, Any]] = []
    sweeps = [("n", n, d_fixed) for n in n_values] + [("d", n_fixed, d) for d in d_values]
    for sweep, n, d in sweeps:
        for name in layers:
            layer = make_layer(name, d, k, heads, window).to(device)
            x = torch.randn(batch, n, d, device=device)
            ms = time_forward(layer, x, repeats)
            mem = saved_activation_bytes(layer, torch.randn(batch, n, d, device=device))
            row = {
                "sweep": sweep,
                "layer": name,
                "n": n,
                "d": d,
                "k": k,
                "r": window,
                "batch": batch,
                "time_ms": round(ms, 4),
                "activation_bytes": mem,
                "macs": flops(name, n, d, k, window) * batch,
                "sequential_ops": n if name in ("recurrent", "lstm") else 1,
            }
            if device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
                with torch.no_grad():
                    layer(x)
                row["peak_cuda_bytes"] = torch.cuda.max_memory_allocated()
            rows.append(row)
            log(f"{sweep}-sweep {name:20s} n={n:5d} d={d:4d}: {ms:8.3f} ms, {mem / 2**20:7.2f} MiB saved")
    return {
        "meta": {
            "what": "Table 1 of Vaswani et al. (2017), measured: forward time and activation memory per layer",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device": device,
            "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "batch": batch,
            "k": k,
            "window": window,
            "heads": heads,
            "d_fixed": d_fixed,
            "n_fixed": n_fixed,
            "repeats": repeats,
        },
        "theory": {
            name: dict(zip(("cost", "sequential", "path"), THEORY[name], strict=True)) for name in layers
        },
        "rows": rows,
        "path_lengths": path_lengths(path_n, k=k, window=window),
    }


def write_results(data: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` as JSON (``.json`` added when missing) and the rows as CSV next to it."""
    out = Path(out)
    json_path = out if out.suffix == ".json" else out.with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    csv_path = json_path.with_suffix(".csv")
    rows = data["rows"]
    fields = sorted(
        {k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k) if k in rows[0] else 99
    )
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def read_results(path: str | Path) -> dict[str, Any]:
    """Read what :func:`write_results` wrote (the JSON file; a CSV path finds its JSON sibling)."""
    path = Path(path)
    if path.suffix == ".csv":
        path = path.with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(f"no complexity results at {path} (run benchmarks/layer_complexity.py first)")
    data = json.loads(path.read_text(encoding="utf-8"))
    if "rows" not in data:
        raise ValueError(f"{path} is not a layer_complexity result (no 'rows')")
    return data


def _slope(xs: Sequence[float], ys: Sequence[float], last: int = 3) -> float:
    """Least-squares slope in log-log space over the ``last`` largest sizes (the empirical exponent, where
    fixed per-call overheads no longer dominate)."""
    xs, ys = list(xs)[-last:], list(ys)[-last:]
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-12)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / den if den else float("nan")


def plot_complexity(data: dict[str, Any] | str | Path, out: str | Path) -> Path:
    """Four panels: time vs n, time vs d (log-log, fitted exponents in the legend), activation memory vs
    n, and the measured maximum path length vs n."""
    if not isinstance(data, dict):
        data = read_results(data)
    rows = data["rows"]
    meta = data.get("meta", {})
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    a, b, c, e = axes.flat
    names = [n for n in LAYERS if any(r["layer"] == n for r in rows)]
    for name in names:
        for ax, sweep, var, key in (
            (a, "n", "n", "time_ms"),
            (b, "d", "d", "time_ms"),
            (c, "n", "n", "activation_bytes"),
        ):
            sel = sorted(
                (r for r in rows if r["layer"] == name and r["sweep"] == sweep), key=lambda r: r[var]
            )
            if len(sel) < 2:
                continue
            xs = [r[var] for r in sel]
            ys = [r[key] / (2**20 if key == "activation_bytes" else 1) for r in sel]
            label = LABELS[name].format(r=meta.get("window", sel[0].get("r", "?")))
            ax.plot(xs, ys, "o-", label=f"{label}  (slope {_slope(xs, ys):.2f})", markersize=4)
    fig.text(
        0.5, 0.005, "slope = fitted exponent over the 3 largest sizes (log-log)", ha="center", fontsize=8
    )
    a.set_title(f"forward time vs n  (d={meta.get('d_fixed')}, batch {meta.get('batch')})", fontsize=10)
    a.set_xlabel("sequence length n")
    b.set_title(f"forward time vs d  (n={meta.get('n_fixed')})", fontsize=10)
    b.set_xlabel("model width d")
    for ax in (a, b):
        ax.set_ylabel("milliseconds")
    c.set_title("activation memory saved for backward vs n", fontsize=10)
    c.set_xlabel("sequence length n")
    c.set_ylabel("MiB")
    paths = data.get("path_lengths", [])
    styles = {
        "self_attention": ("self-attention: O(1)", "o-"),
        "recurrent": ("recurrent: O(n)", "s-"),
        "convolutional": ("contiguous conv k={k}: O(n/k)", "^-"),
        "convolutional_dilated": ("dilated conv k={k}: O(log_k n)", "v-"),
        "restricted_self_attention": ("restricted self-attention r={r}: O(n/r)", "D-"),
    }
    for name, (label, style) in styles.items():
        sel = sorted((r for r in paths if r["layer"] == name), key=lambda r: r["n"])
        if sel:
            e.plot(
                [r["n"] for r in sel],
                [r["path_length"] for r in sel],
                style,
                label=label.format(k=sel[0]["k"], r=sel[0].get("r", "?")),
            )
    e.set_title("maximum path length (measured by gradient probes)", fontsize=10)
    e.set_xlabel("sequence length n")
    e.set_ylabel("layers / cell applications between positions 0 and n−1")
    for ax in axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(
        f"Table 1, measured ({meta.get('device', 'cpu')}, {meta.get('threads', '?')} thread(s), torch "
        f"{meta.get('torch', '?')})",
        fontsize=11,
    )
    fig.tight_layout()
    return save_figure(fig, out)
