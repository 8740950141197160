"""The output projection fused into the loss (§3.4 + §5.4, docs/performance.md P5) is the unfused loss:
same value, same gradients, in both smoothing conventions, with padding, a bias and under bf16 autocast."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ronbun import GPT, GPTConfig, Transformer, TransformerConfig
from ronbun.training.distributed import unwrap
from ronbun.training.losses import label_smoothed_nll, projected_label_smoothed_nll


def _inputs(n: int = 37, d: int = 8, v: int = 23, bias: bool = True, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(n, d, generator=g, dtype=dtype, requires_grad=True)
    weight = torch.randn(v, d, generator=g, dtype=dtype, requires_grad=True)
    b = torch.randn(v, generator=g, dtype=dtype, requires_grad=True) if bias else None
    target = torch.randint(0, v, (n,), generator=g)
    target[::5] = -100  # padding
    return hidden, weight, b, target


@pytest.mark.parametrize("chunk", [1, 8, 4096])
def test_row_weights_weigh_each_position_in_the_sum_and_its_gradient(chunk):
    """``row_weight`` gives Σ_i w_i·CE_i (e.g. a sum of per-sequence means, GPT-1's aux LM loss)."""
    hidden, weight, bias, target = _inputs()
    w = torch.rand(target.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    per_row = F.cross_entropy(F.linear(hidden, weight, bias), target, reduction="none", label_smoothing=0.1)
    ref = (per_row * w).sum()
    ref_grads = torch.autograd.grad(ref * 0.37, (hidden, weight, bias))
    out, n = projected_label_smoothed_nll(
        hidden, weight, bias, target, epsilon=0.1, mass="all", chunk=chunk, row_weight=w
    )
    grads = torch.autograd.grad(out * 0.37, (hidden, weight, bias))
    assert n == 29  # the count of real positions is not weighted
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mass", ["others", "all"])
@pytest.mark.parametrize("epsilon", [0.0, 0.1])
@pytest.mark.parametrize("chunk", [1, 8, 4096])
def test_fused_equals_unfused_value_and_gradients(mass, epsilon, chunk):
    hidden, weight, bias, target = _inputs()
    ref, n_ref = label_smoothed_nll(F.linear(hidden, weight, bias), target, epsilon=epsilon, mass=mass)
    ref_grads = torch.autograd.grad(ref * 0.37, (hidden, weight, bias))
    out, n = projected_label_smoothed_nll(
        hidden, weight, bias, target, epsilon=epsilon, mass=mass, chunk=chunk
    )
    grads = torch.autograd.grad(out * 0.37, (hidden, weight, bias))
    assert n == n_ref == 29
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_a_bias_without_gradient_and_3d_hidden_states():
    hidden, weight, bias, target = _inputs(n=24)
    bias = bias.detach()  # Marian's final_logits_bias is a buffer
    h3, t3 = hidden.reshape(4, 6, -1), target.reshape(4, 6)
    ref, _ = label_smoothed_nll(F.linear(h3, weight, bias), t3)
    out, _ = projected_label_smoothed_nll(h3, weight, bias, t3, chunk=5)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    (g_ref,) = torch.autograd.grad(ref, weight)
    (g,) = torch.autograd.grad(out, weight)
    torch.testing.assert_close(g, g_ref)


def test_under_bf16_autocast_it_is_as_accurate_as_the_unfused_autocast_loss():
    """Both run the projection GEMMs in bf16; measured against float64, the fused loss and gradients are no
    less accurate than autocast's unfused ones (they are slightly more: no bf16 round trip of the logits)."""
    hidden, weight, bias, target = _inputs(n=64, d=32, v=50, dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref, _ = label_smoothed_nll(F.linear(hidden, weight, bias), target)
        out, _ = projected_label_smoothed_nll(hidden, weight, bias, target, chunk=16)
    exact_inputs = [t.detach().double().requires_grad_() for t in (hidden, weight, bias)]
    exact, _ = label_smoothed_nll(F.linear(*exact_inputs), target)
    assert out.dtype == torch.float32
    assert abs(out.item() - exact.item()) <= 1.5 * abs(ref.item() - exact.item()) + 1e-3
    exact_grads = torch.autograd.grad(exact, exact_inputs)
    ref_grads = torch.autograd.grad(ref, (hidden, weight, bias))
    grads = torch.autograd.grad(out, (hidden, weight, bias))
    for got, want, truth in zip(grads, ref_grads, exact_grads, strict=True):
        assert got.dtype == torch.float32
        err, ref_err = (got.double() - truth).abs().max(), (want.double() - truth).abs().max()
        assert err <= 1.5 * ref_err, (err, ref_err)


def test_without_gradients_only_the_loss_is_computed():
    hidden, weight, bias, target = _inputs()
    with torch.no_grad():
        out, _ = projected_label_smoothed_nll(hidden, weight, bias, target)
    ref, _ = label_smoothed_nll(F.linear(hidden, weight, bias), target)
    torch.testing.assert_close(out, ref.detach())


def test_models_expose_their_output_layer_and_hidden_states():
    mt = Transformer(TransformerConfig.preset("tiny", vocab_size=50, final_logits_bias=True)).eval()
    src, tgt = torch.randint(4, 50, (2, 5)), torch.randint(4, 50, (2, 4))
    weight, bias = mt.output_layer()
    assert weight is mt.tgt_embed.tokens.weight and bias is mt.final_logits_bias
    torch.testing.assert_close(F.linear(mt(src, tgt, return_hidden=True), weight, bias), mt(src, tgt))
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=50)).eval()
    ids = torch.randint(0, 50, (2, 6))
    weight, bias = gpt.output_layer()
    assert weight is gpt.embed.tokens.weight and bias is None
    torch.testing.assert_close(F.linear(gpt(ids, return_hidden=True), weight), gpt(ids))


def test_unwrap_sees_through_compile_and_ddp_style_wrappers():
    model = GPT(GPTConfig.preset("tiny", vocab_size=50))

    class Wrapper(torch.nn.Module):  # the attribute DistributedDataParallel uses
        def __init__(self, module):
            super().__init__()
            self.module = module

    assert unwrap(Wrapper(model)) is model
    assert unwrap(torch.compile(Wrapper(model))) is model
    assert unwrap(model) is model


@pytest.mark.parametrize("fused", [True, False])
def test_inference_logits_follow_the_weights_after_an_optimiser_step(fused):
    """The eval-mode output projection caches a contiguous Wᵀ (P4a); a training step in between (fused
    AdamW updates in place without bumping the version counter) must not leave it stale."""
    model = GPT(GPTConfig.preset("tiny", vocab_size=50))
    ids = torch.randint(0, 50, (2, 6))
    with torch.no_grad():
        model.eval()(ids)  # fills the cache
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, fused=fused, foreach=None if fused else True)
    model.train()(ids).logsumexp(-1).sum().backward()
    opt.step()
    with torch.no_grad():
        model.eval()
        expected = F.linear(model(ids, return_hidden=True), unwrap(model).output_layer()[0])
        torch.testing.assert_close(model(ids), expected)


def test_the_models_training_loss_through_their_own_output_layer():
    """``output_layer_nll`` = the unfused loss of ``model(...)``'s logits, for both papers' models."""
    from ronbun.training.losses import output_layer_nll

    mt = Transformer(TransformerConfig.preset("tiny", vocab_size=50, final_logits_bias=True)).eval()
    src, tgt = torch.randint(4, 50, (2, 5)), torch.randint(4, 50, (2, 4))
    want, _ = label_smoothed_nll(mt(src, tgt), tgt, epsilon=0.1, ignore_index=0)
    got, _ = output_layer_nll(
        mt, mt(src, tgt, return_hidden=True), tgt, epsilon=0.1, ignore_index=0, mass="others"
    )
    torch.testing.assert_close(got, want)
    gpt = GPT(GPTConfig.preset("tiny", vocab_size=50)).eval()
    ids = torch.randint(0, 50, (2, 6))
    want, _ = label_smoothed_nll(gpt(ids[:, :-1]), ids[:, 1:], epsilon=0.0, mass="all")
    got, _ = output_layer_nll(gpt, gpt(ids[:, :-1], return_hidden=True), ids[:, 1:])
    torch.testing.assert_close(got, want)


def test_padding_rows_never_reach_the_output_layer():
    """Ignored positions are dropped before the V-wide projection: a batch of padding costs nothing and gives
    zero loss and zero gradients; a partly padded batch equals its unpadded rows alone."""
    torch.manual_seed(0)
    hidden = torch.randn(6, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(11, 8, dtype=torch.float64, requires_grad=True)
    padding = torch.full((6,), -100)
    loss, n = projected_label_smoothed_nll(hidden, weight, None, padding, epsilon=0.1)
    loss.backward()
    assert float(loss) == 0.0 and int(n) == 0
    assert not hidden.grad.any() and not weight.grad.any()
    target = torch.tensor([3, -100, 5, -100, -100, 1])
    part, n = projected_label_smoothed_nll(hidden, weight, None, target, epsilon=0.1)
    rows = torch.tensor([0, 2, 5])
    alone, _ = projected_label_smoothed_nll(hidden[rows], weight, None, target[rows], epsilon=0.1)
    assert int(n) == 3 and torch.allclose(part, alone)
