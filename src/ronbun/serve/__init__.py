"""``ronbun serve``: a local web page to look inside checkpoints (standard library ``http.server`` only).

Type a sentence and see the Transformer's translation (greedy or beam search, §6.1) with every attention map
(encoder self-, decoder self- and encoder-decoder attention, §3.2.3) by layer and head; or give GPT-1 a prompt
and sample a continuation (temperature, top-k, top-p) with its masked self-attention.  The page's files ship
in the package (``ronbun/serve/static``), so it works offline.  See :mod:`ronbun.serve.app`.
"""

from .app import ApiError, ServeApp, create_server, serve

__all__ = ["ApiError", "ServeApp", "create_server", "serve"]
