"""Looking inside a trained model without drawing it: a checkpoint's attention maps with their token labels.

The floor between the applications (:mod:`ronbun.mt`, :mod:`ronbun.gpt`, whose loaders it uses) and the two
ways of showing what it finds: pictures (:mod:`ronbun.viz`) and the web page (:mod:`ronbun.serve`).  It
imports no plotting library, so the server never loads matplotlib.  The package exports exactly the names of
:mod:`ronbun.inspection.attention` (maps of any input) and :mod:`ronbun.inspection.appendix` (the paper's
appendix sentences, merged to words), each listed once, in its module's ``__all__``.
"""

from . import appendix, attention
from .appendix import *  # noqa: F403
from .attention import *  # noqa: F403

__all__ = [*attention.__all__, *appendix.__all__]
