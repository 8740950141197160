"""A trained model at a lower inference precision: bf16 weights, or int8 dynamic quantisation of its
Linear layers (PyTorch's own ``torch.ao`` kernels).  Decoding logic is unchanged; only the arithmetic of the
matrix products is.

* ``fp32``: the model as trained (the reference every other precision is measured against).
* ``bf16``: a copy with bf16 weights and activations; fast where the CPU has native bf16 (AVX-512 BF16,
  AMX), and the search still normalises log-probabilities in float32 (``models/decoding.py``).
* ``int8``: a copy whose ``nn.Linear`` layers (Q/K/V and output projections of §3.2.2, the FFN of Eq. 2)
  hold int8 weights and quantise their inputs per batch, and whose tied pre-softmax projection (§3.4) gets an
  int8 copy of the shared weight (the embedding itself, and LayerNorm, stay float32).  The projection is the
  widest matrix of a decoder step (d_model × V); in int8 it runs 3-7x faster for the few rows of a beam
  (measured with d_model 256, V 8,000, one thread).  CPU only.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from .stack import OutputProjection

__all__ = ["PRECISIONS", "at_precision"]

PRECISIONS = ("fp32", "bf16", "int8")


def at_precision(model: nn.Module, precision: str) -> nn.Module:
    """``model`` itself for ``fp32``, else an inference-only copy at ``precision`` (in eval mode)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return model
    copied = copy.deepcopy(model).eval()
    if precision == "bf16":
        return copied.to(torch.bfloat16)
    if any(p.device.type != "cpu" for p in copied.parameters()):
        raise ValueError("int8 dynamic quantisation runs on the CPU; use bf16 on an accelerator")
    with warnings.catch_warnings():  # torch.ao announces its successor (torchao); in torch 2.13 it is current
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        quantised = torch.ao.quantization.quantize_dynamic(copied, {nn.Linear}, dtype=torch.qint8)
        for module in quantised.modules():  # the model itself, or each member of an ensemble
            if isinstance(module, OutputProjection):
                _add_int8_output(module)
        return quantised


def _add_int8_output(model: OutputProjection) -> None:
    """Give ``model`` an int8 copy of its (tied) pre-softmax projection, used in inference (``stack.py``)."""
    weight, bias = model.output_layer()  # (V, d_model), (V,) | None
    linear = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(bias)
    int8 = torch.ao.quantization.quantize_dynamic(nn.Sequential(linear), {nn.Linear}, dtype=torch.qint8)
    model.__dict__["int8_output"] = int8[0]  # not a submodule: the state dict stays the model's
