"""A paper's table reproduced end to end: train every row through an application (:mod:`ronbun.mt`), score
it on the validation split, print it beside the paper's numbers and draw it (:mod:`ronbun.viz`).

* :mod:`ronbun.experiments.table3` — Table 3 of "Attention Is All You Need" (model variations), at CPU scale
  (``ronbun experiment table3``).
"""
