"""Looking inside a trained model without drawing it: a checkpoint's attention maps with their token labels.

The floor between the applications (:mod:`ronbun.mt`, :mod:`ronbun.gpt`, whose loaders it uses) and the two
ways of showing what it finds: pictures (:mod:`ronbun.viz`) and the web page (:mod:`ronbun.serve`).  It
imports no plotting library, so the server never loads matplotlib.
"""

from .attention import (
    KINDS,
    AttentionView,
    Inspectable,
    as_layer,
    attention_view,
    averaged_alignment,
    check_layer_head,
    load_inspectable,
    printable,
    token_pieces,
)

__all__ = [
    "KINDS",
    "AttentionView",
    "Inspectable",
    "as_layer",
    "attention_view",
    "averaged_alignment",
    "check_layer_head",
    "load_inspectable",
    "printable",
    "token_pieces",
]
