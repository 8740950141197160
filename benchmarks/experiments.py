"""Proposed speed-ups, measured before they are adopted: each one is applied here *from the outside*
(a different loss function, optimiser or a patched method) and timed interleaved against ronbun as it is.

    python -m benchmarks.experiments --threads 2 [--only fused-adamw linear-ce decode-cache ...]

Experiments:

* ``fused-adamw``: ``torch.optim.AdamW(fused=True)`` instead of ``foreach=True`` in
  ``ronbun.training.optim.make_optimizer`` (same update rule, one fused CPU kernel per tensor, no temporaries).
* ``linear-ce``: output projection + label-smoothed cross-entropy fused and chunked over tokens
  (:class:`LinearCrossEntropy`): the ``(N, V)`` logits, log-probabilities and their gradient never exist in
  full; the gradient is computed in the forward pass chunk by chunk (as Liger-Kernel / Apple's cut-CE do).
  Measured for speed and (in subprocesses) for peak memory.
* ``decode-cache``: two decoding changes (``models/transformer.py``, ``nn/state.py``): a pre-transposed
  contiguous copy of the output-projection weight in inference (small-M GEMMs against the ``(V, d)`` weight
  read transposed are slow on CPU), and cross-attention caches that are not re-gathered when the beams of
  each sentence stay within that sentence.
* ``attention``: (a) bf16 autocast with ``attention_impl="math"`` instead of SDPA (PyTorch's CPU flash kernel
  is slow in bf16); (b) the attention core recomputed in the backward pass (:func:`attention_recompute`):
  with attention dropout, CPU SDPA falls back to the math path and keeps four ``(B, h, T, T)`` tensors per
  layer.
* ``memory``: peak training memory of GPT (``--gpt``) with each proposal, in subprocesses.
* ``compile``: ``torch.compile`` of the training forward (ronbun's ``TrainerConfig.compile``).

Each prints ``baseline ms, patched ms, gain``; docs/performance.md records the results.  The changes proposed
for ``src/`` (P1-P4 there) are ``benchmarks/proposals.diff``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import FIXED_MMAP_ENV, interleaved, probe_memory, set_threads
from .models import EOS_MT, GPT_PRESETS, gpt_batch, gpt_pair, mt_batch, mt_pair
from .steps import gpt_loss, lm_targets, mt_loss

# -- fused, chunked output projection + label-smoothed cross-entropy ----------------------------------------------


class LinearCrossEntropy(torch.autograd.Function):
    """``sum_i CE_ε(h_i W^T + b, t_i)`` without materialising the ``(N, V)`` logits.

    Same loss as ``F.cross_entropy(F.linear(h, W, b), t, label_smoothing=ε, ignore_index=…, reduction="sum")``:
    per row ``(1-ε)(lse - z_t) + ε(lse - mean(z))``; its gradient w.r.t. the logits is
    ``softmax(z) - (1-ε)·onehot(t) - ε/V`` (zero on ignored rows).  Each chunk of rows computes its logits,
    its loss and that gradient, and immediately the two products that need it (``dh = dz W``,
    ``dW += dz^T h``); only ``dh`` ``(N, d)`` and ``dW`` ``(V, d)`` are kept for ``backward``.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        hidden: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        target: Tensor,
        epsilon: float,
        ignore_index: int,
        chunk: int,
    ) -> Tensor:
        n, v = hidden.shape[0], weight.shape[0]
        dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else hidden.dtype
        w = weight.to(dtype)
        grad_h = torch.empty(hidden.shape, dtype=hidden.dtype, device=hidden.device)
        acc = torch.promote_types(dtype, torch.float32)  # softmax and accumulation precision
        grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device)
        grad_b = torch.zeros(v, dtype=acc, device=weight.device) if bias is not None else None
        total = torch.zeros((), dtype=acc, device=hidden.device)
        rows = torch.arange(chunk, device=hidden.device)
        with torch.autocast("cpu", enabled=False):
            for s in range(0, n, chunk):
                h = hidden[s : s + chunk].to(dtype)
                t = target[s : s + chunk]
                c = h.shape[0]
                z = F.linear(h, w).to(acc)
                if bias is not None:
                    z += bias
                valid = t != ignore_index
                tt = torch.where(valid, t, 0)
                lse = torch.logsumexp(z, dim=1)
                z_t = z.gather(1, tt[:, None]).squeeze(1)
                loss = (1 - epsilon) * (lse - z_t) + epsilon * (lse - z.mean(dim=1))
                total += loss.masked_fill(~valid, 0.0).sum()
                g = z.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
                if epsilon:
                    g.sub_(epsilon / v)
                g[rows[:c], tt] -= 1 - epsilon
                g.mul_(valid[:, None])
                if grad_b is not None:
                    grad_b += g.sum(dim=0)
                g = g.to(dtype)
                grad_h[s : s + chunk] = (g @ w).to(hidden.dtype)
                grad_w += (g.t() @ h).to(acc)
        ctx.save_for_backward(grad_h, grad_w, grad_b)
        ctx.has_bias = bias is not None and bias.requires_grad
        return total

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_out: Tensor):  # type: ignore[override]
        grad_h, grad_w, grad_b = ctx.saved_tensors  # type: ignore[attr-defined]
        gb = grad_b * grad_out if ctx.has_bias else None  # type: ignore[attr-defined]
        return grad_h * grad_out, (grad_w * grad_out).to(grad_h.dtype), gb, None, None, None, None


def linear_cross_entropy(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    target: Tensor,
    *,
    epsilon: float = 0.0,
    ignore_index: int = -100,
    chunk: int = 1024,
) -> tuple[Tensor, Tensor]:
    """``(loss_sum, n_tokens)`` like ``ronbun.training.losses.label_smoothed_nll(mass="all")``."""
    h = hidden.reshape(-1, hidden.shape[-1])
    t = target.reshape(-1)
    loss = LinearCrossEntropy.apply(h, weight, bias, t, epsilon, ignore_index, chunk)
    return loss, (t != ignore_index).sum()


def mt_fused_loss(model: nn.Module, batch: dict[str, Tensor], pad_id: int) -> Tensor:
    """ronbun's translation loss through :func:`linear_cross_entropy` (ε as ``mass="others"`` gives it)."""
    memory, keep, _ = model.encode(batch["src"])
    hidden, _ = model.decode(batch["tgt_in"], memory, keep)
    v = model.config.vocab_size
    loss, n = linear_cross_entropy(
        hidden, model.tgt_embed.tokens.weight, model.final_logits_bias, batch["tgt_out"],
        epsilon=0.1 * v / (v - 1), ignore_index=pad_id,
    )  # fmt: skip
    return loss / n


def gpt_fused_loss(model: nn.Module, ids: Tensor, targets: Tensor) -> Tensor:
    hidden, _ = model.hidden_states(ids)
    loss, n = linear_cross_entropy(hidden, model.embed.tokens.weight, None, targets, ignore_index=-100)
    return loss / n


# -- recomputed attention core (activation checkpointing of Eq. 1 only) -------------------------------------------
@contextlib.contextmanager
def attention_recompute() -> Iterator[None]:
    """Wrap ronbun's ``scaled_dot_product_attention`` in ``torch.utils.checkpoint`` during training.

    With attention dropout (GPT-1: 0.1) PyTorch's CPU SDPA has no fused kernel and falls back to the math
    path, which keeps the ``(B, h, T, T)`` scores, probabilities, dropout mask and dropped probabilities of
    every layer for the backward pass.  Recomputing them in the backward pass (RNG state restored, so the same
    dropout mask) keeps only Q, K, V: the attention products cost ~5 % of a GPT-1 layer's FLOPs."""
    from torch.utils.checkpoint import checkpoint

    from ronbun.nn import attention

    original = attention.scaled_dot_product_attention

    def recomputed(q: Tensor, k: Tensor, v: Tensor, **kw: object) -> tuple[Tensor, Tensor | None]:
        if not torch.is_grad_enabled() or kw.get("need_weights"):
            return original(q, k, v, **kw)  # type: ignore[arg-type]
        out = checkpoint(lambda q, k, v: original(q, k, v, **kw)[0], q, k, v, use_reentrant=False)  # type: ignore[arg-type]
        return out, None

    attention.scaled_dot_product_attention = recomputed  # type: ignore[assignment]
    try:
        yield
    finally:
        attention.scaled_dot_product_attention = original


def gpt_len(preset: str) -> int:
    """The benchmark's GPT sequence length (256) or the preset's context, whichever is shorter."""
    return min(256, GPT_PRESETS[preset]["n_ctx"])


# -- training-step variants ---------------------------------------------------------------------------------------
def make_step(
    model: nn.Module,
    loss_fn: Callable[[], Tensor],
    *,
    precision: str = "fp32",
    fused_adamw: bool = False,
    recompute_attention: bool = False,
) -> Callable[[], Tensor]:
    from ronbun.training.optim import parameter_groups

    kw = {"fused": True} if fused_adamw else {"foreach": True}
    opt = torch.optim.AdamW(parameter_groups(model, 0.0), lr=1e-4, betas=(0.9, 0.98), eps=1e-9, **kw)

    def step() -> Tensor:
        opt.zero_grad(set_to_none=True)
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
        recompute = attention_recompute() if recompute_attention else contextlib.nullcontext()
        with ctx, recompute:
            loss = loss_fn()
        loss.backward()  # checkpoint recomputes with the autocast state of the forward pass
        opt.step()
        return loss.detach()

    return step


def check_linear_ce() -> float:
    """Max abs difference between the fused loss/gradients and the unfused ones (fp32)."""
    torch.manual_seed(0)
    h = torch.randn(300, 32, dtype=torch.float64, requires_grad=True)
    w = torch.randn(97, 32, dtype=torch.float64, requires_grad=True)
    b = torch.randn(97, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 97, (300,))
    t[::7] = -100
    ref = F.cross_entropy(F.linear(h, w, b), t, label_smoothing=0.1, ignore_index=-100, reduction="sum")
    g_ref = torch.autograd.grad(ref, (h, w, b))
    out, _ = linear_cross_entropy(h, w, b, t, epsilon=0.1, chunk=64)
    g = torch.autograd.grad(out, (h, w, b))
    out, ref = out.detach(), ref.detach()
    diffs = [(out - ref).abs().max(), *((x - y).abs().max() for x, y in zip(g, g_ref, strict=True))]
    return float(torch.stack(diffs).max())


def ab(
    name: str, base: Callable[[], object], new: Callable[[], object], warmup: int, reps: int
) -> dict[str, float]:
    t = interleaved({"base": base, "new": new}, warmup=warmup, reps=reps)
    out = {
        "baseline_ms": t.median["base"] * 1e3,
        "patched_ms": t.median["new"] * 1e3,
        "gain": t.ratio("new", "base"),
    }
    print(
        f"{name:58s} {out['baseline_ms']:9.1f} ms → {out['patched_ms']:9.1f} ms   {out['gain']:.2f}×",
        flush=True,
    )
    return out


def exp_fused_adamw(results: dict, warmup: int, reps: int, presets: dict[str, str]) -> None:
    pair = mt_pair(presets["mt"])
    batch = mt_batch(64, 32, 32)
    m = pair.ours
    m.train()
    base = make_step(m, lambda: mt_loss("ours", m, batch))
    new = make_step(m, lambda: mt_loss("ours", m, batch), fused_adamw=True)
    results[f"fused-adamw mt {presets['mt']}"] = ab(
        f"fused AdamW, MT {presets['mt']} step", base, new, warmup, reps
    )
    g = gpt_pair(presets["gpt"]).ours.train()
    ids = gpt_batch(4, gpt_len(presets["gpt"]))
    tg = lm_targets(ids)
    base = make_step(g, lambda: gpt_loss("ours", g, ids, tg))
    new = make_step(g, lambda: gpt_loss("ours", g, ids, tg), fused_adamw=True)
    results[f"fused-adamw gpt {presets['gpt']}"] = ab(
        f"fused AdamW, GPT {presets['gpt']} step", base, new, warmup, reps
    )


def exp_linear_ce(results: dict, warmup: int, reps: int, presets: dict[str, str]) -> None:
    err = check_linear_ce()
    print(f"fused linear-CE vs F.cross_entropy (float64): max abs difference {err:.2e}")
    results["linear-ce check max abs diff"] = err
    pair = mt_pair(presets["mt"])
    batch = mt_batch(64, 32, 32)
    m = pair.ours.train()
    pad = m.config.pad_id
    for precision in ("fp32", "bf16"):
        base = make_step(m, lambda: mt_loss("ours", m, batch, pad), precision=precision)
        new = make_step(m, lambda: mt_fused_loss(m, batch, pad), precision=precision)
        results[f"linear-ce mt {presets['mt']} {precision}"] = ab(
            f"fused linear-CE, MT {presets['mt']} step {precision}", base, new, warmup, reps
        )
    g = gpt_pair(presets["gpt"]).ours.train()
    ids = gpt_batch(4, gpt_len(presets["gpt"]))
    tg = lm_targets(ids)
    for precision in ("fp32", "bf16"):
        base = make_step(g, lambda: gpt_loss("ours", g, ids, tg), precision=precision)
        new = make_step(g, lambda: gpt_fused_loss(g, ids, tg), precision=precision)
        both = make_step(g, lambda: gpt_fused_loss(g, ids, tg), precision=precision, fused_adamw=True)
        results[f"linear-ce gpt {presets['gpt']} {precision}"] = ab(
            f"fused linear-CE, GPT {presets['gpt']} step {precision}", base, new, warmup, reps
        )
        results[f"linear-ce+fused-adamw gpt {presets['gpt']} {precision}"] = ab(
            f"fused linear-CE + fused AdamW, GPT {presets['gpt']} {precision}", base, both, warmup, reps
        )


# -- decoding: cached transposed projection, cross-KV reorder skip -----------------------------------------------
DECODE_PATCHES = ("proj", "cross")


@contextlib.contextmanager
def decode_patches(which: tuple[str, ...] = DECODE_PATCHES) -> Iterator[None]:
    """Apply the proposed decoding changes (undone on exit):

    * ``proj``: ``Transformer.project`` in inference uses a cached contiguous ``W^T`` (``(d, V)``), refreshed
      when the weight changes (``_version``), so the per-step GEMM reads ``W`` in its fast layout.
    * ``cross``: ``DecoderState.reorder`` tracks each row's source sentence and leaves the cross-attention
      caches, ``memory`` and ``memory_mask`` alone when every row keeps its sentence (beam re-ranking within
      a sentence), gathering them only when rows are expanded or dropped.
    """
    from ronbun.models.transformer import Transformer
    from ronbun.nn import state

    saved = (Transformer.project, state.DecoderState.reorder)

    def project(self: Transformer, hidden: Tensor) -> Tensor:
        weight = self.output_proj.weight if self.output_proj is not None else self.tgt_embed.tokens.weight
        if self.training or torch.is_grad_enabled():
            return F.linear(hidden, weight, self.final_logits_bias)
        key = (weight.data_ptr(), weight._version)
        cached = getattr(self, "_wt_cache", None)
        if cached is None or cached[0] != key:
            cached = (key, weight.t().contiguous())
            self._wt_cache = cached  # type: ignore[attr-defined]
        out = hidden @ cached[1]
        return out if self.final_logits_bias is None else out.add_(self.final_logits_bias)

    def reorder(self: state.DecoderState, index: Tensor) -> None:
        for cache in self.self_kv:
            cache.reorder(index)
        if not self.cross_kv and self.memory is None and self.memory_mask is None:
            return
        src = getattr(self, "_src", None)
        if src is None:
            first = (
                self.cross_kv[0].k if self.cross_kv and self.cross_kv[0].k is not None else self.memory_mask
            )
            src = torch.arange(first.shape[0], device=index.device)  # type: ignore[union-attr]
        new_src = src.index_select(0, index)
        if not (new_src.shape == src.shape and torch.equal(new_src, src)):
            for cache in self.cross_kv:
                cache.reorder(index)
            if self.memory is not None:
                self.memory = self.memory.index_select(0, index)
            if self.memory_mask is not None:
                self.memory_mask = self.memory_mask.index_select(0, index)
        self._src = new_src  # type: ignore[attr-defined]

    if "proj" in which:
        Transformer.project = project  # type: ignore[method-assign]
    if "cross" in which:
        state.DecoderState.reorder = reorder  # type: ignore[method-assign]
    try:
        yield
    finally:
        Transformer.project, state.DecoderState.reorder = saved


def exp_decode(results: dict, warmup: int, reps: int, presets: dict[str, str]) -> None:
    from ronbun.generation import EncoderDecoderAdapter, beam_search, greedy_search

    from .decode import sources

    pair = mt_pair(presets["mt"], dropout=0.0, init_std=0.05, bias_std=1.0)
    model = pair.ours.eval()
    src = sources()
    for beam in (1, 4):

        def run(beam: int = beam) -> list[list[int]]:
            adapter = EncoderDecoderAdapter(model, src)
            if beam == 1:
                res = greedy_search(adapter, 32, eos_id=EOS_MT, force_eos=False)
            else:
                res = beam_search(adapter, 32, eos_id=EOS_MT, beam=beam, alpha=1.0, length_penalty="power",
                                  early_stopping="bound", force_eos=False)  # fmt: skip
            return [r.tokens for r in res]

        variants = [("proj",), ("cross",), DECODE_PATCHES] if beam > 1 else [("proj",)]
        for which in variants:

            def patched(
                run: Callable[[], list[list[int]]] = run, which: tuple[str, ...] = which
            ) -> list[list[int]]:
                with decode_patches(which):
                    return run()

            same = run() == patched()
            name = f"decode {'+'.join(which)}, MT {presets['mt']} {'greedy' if beam == 1 else f'beam {beam}'}"
            results[name] = {**ab(name, run, patched, warmup, reps), "identical": same}
            print(f"    identical output: {same}")


def exp_attention(results: dict, warmup: int, reps: int, presets: dict[str, str]) -> None:
    """bf16: SDPA vs the math path; GPT: recomputed attention core (speed)."""
    import copy

    from ronbun.nn.attention import MultiHeadAttention

    def math_copy(model: nn.Module) -> nn.Module:
        model = copy.deepcopy(model)
        for m in model.modules():
            if isinstance(m, MultiHeadAttention):
                m.impl = "math"
        return model

    m = mt_pair(presets["mt"]).ours.train()
    mm = math_copy(m)
    batch = mt_batch(64, 32, 32)
    pad = m.config.pad_id
    base = make_step(m, lambda: mt_loss("ours", m, batch, pad), precision="bf16")
    new = make_step(mm, lambda: mt_loss("ours", mm, batch, pad), precision="bf16")
    results[f"bf16 math attention mt {presets['mt']}"] = ab(
        f"bf16 math attention instead of SDPA, MT {presets['mt']}", base, new, warmup, reps
    )
    g = gpt_pair(presets["gpt"]).ours.train()
    gm = math_copy(g)
    ids = gpt_batch(4, gpt_len(presets["gpt"]))
    tg = lm_targets(ids)
    base = make_step(g, lambda: gpt_loss("ours", g, ids, tg), precision="bf16")
    new = make_step(gm, lambda: gpt_loss("ours", gm, ids, tg), precision="bf16")
    results[f"bf16 math attention gpt {presets['gpt']}"] = ab(
        f"bf16 math attention instead of SDPA, GPT {presets['gpt']}", base, new, warmup, reps
    )
    for precision in ("fp32", "bf16"):
        mod = g if precision == "fp32" else gm
        base = make_step(mod, lambda mod=mod: gpt_loss("ours", mod, ids, tg), precision=precision)
        new = make_step(mod, lambda mod=mod: gpt_loss("ours", mod, ids, tg), precision=precision,
                        recompute_attention=True)  # fmt: skip
        results[f"attn-recompute gpt {presets['gpt']} {precision}"] = ab(
            f"recomputed attention core, GPT {presets['gpt']} {precision}", base, new, warmup, reps
        )


def exp_memory(results: dict, presets: dict[str, str], steps: int = 3) -> None:
    """Peak training memory of the proposals, each in a fresh subprocess, default glibc and fixed mmap."""
    spec = {"kind": "gpt", "preset": presets["gpt"], "batch": 4, "length": gpt_len(presets["gpt"]), "vocab": 40478,
            "steps": steps, "threads": torch.get_num_threads()}  # fmt: skip
    variants = (
        ("hf", []),
        ("ours", []),
        ("ours", ["attn-recompute"]),
        ("ours", ["linear-ce"]),
        ("ours", ["fused-adamw"]),
        ("ours", ["attn-recompute", "linear-ce", "fused-adamw"]),
    )
    for env_name, env in (("glibc default", None), ("mmap threshold 64 KiB", FIXED_MMAP_ENV)):
        for side, extra in variants:
            peak = probe_memory({**spec, "side": side, "variants": extra}, env=env)
            name = "+".join([side, *extra])
            results[f"memory gpt {presets['gpt']} {name} ({env_name})"] = peak["peak_mib"]
            print(f"peak memory GPT {presets['gpt']} train ({env_name}), {name:44s} {peak['peak_mib']:8.0f} MiB",
                  flush=True)  # fmt: skip


def exp_compile(results: dict, warmup: int, reps: int, presets: dict[str, str]) -> None:
    pair = mt_pair(presets["mt"])
    batch = mt_batch(64, 32, 32)
    m = pair.ours.train()
    compiled = torch.compile(m)
    base = make_step(m, lambda: mt_loss("ours", m, batch))
    new = make_step(m, lambda: mt_loss("ours", compiled, batch))
    t0 = time.perf_counter()
    new()
    new()
    compile_s = time.perf_counter() - t0
    print(f"torch.compile warm-up (first two steps): {compile_s:.0f} s")
    results[f"compile mt {presets['mt']}"] = {**ab(f"torch.compile, MT {presets['mt']} step fp32", base, new,
                                                    warmup, reps), "compile_s": compile_s}  # fmt: skip


EXPERIMENTS = ("fused-adamw", "linear-ce", "attention", "decode-cache", "memory", "compile")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=list(EXPERIMENTS[:4]))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--mt", default="small")
    ap.add_argument("--gpt", default="small")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    a = ap.parse_args(argv)
    set_threads(a.threads)
    presets = {"mt": a.mt, "gpt": a.gpt}
    results: dict = {"threads": a.threads, "presets": presets}
    if "fused-adamw" in a.only:
        exp_fused_adamw(results, 2, a.reps, presets)
    if "linear-ce" in a.only:
        exp_linear_ce(results, 2, a.reps, presets)
    if "attention" in a.only:
        exp_attention(results, 2, a.reps, presets)
    if "decode-cache" in a.only:
        exp_decode(results, 1, a.reps, presets)
    if "memory" in a.only:
        exp_memory(results, presets)
    if "compile" in a.only:
        exp_compile(results, 1, a.reps, presets)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(
                results, f, indent=1, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x
            )


if __name__ == "__main__":
    main()
