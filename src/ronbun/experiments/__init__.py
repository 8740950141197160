"""A paper's table or figure reproduced end to end: train every row through an application (:mod:`ronbun.mt`,
:mod:`ronbun.gpt`), score it on the validation or dev split, print it beside the paper's numbers and draw it
(:mod:`ronbun.viz`).

* :mod:`ronbun.experiments.table3` — Table 3 of "Attention Is All You Need" (model variations), at CPU scale
  (``ronbun experiment table3``);
* :mod:`ronbun.experiments.table5` — Table 5 of GPT-1 (ablations: no pre-training, no auxiliary LM), at CPU
  scale (``ronbun experiment table5``);
* :mod:`ronbun.experiments.figure2` — Figure 2 of GPT-1 (layers transferred; zero-shot heuristics over
  pre-training), at CPU scale (``ronbun experiment figure2``);
* :mod:`ronbun.experiments.finetuning` — the GPT-1 fine-tuning runs both GPT experiments are made of;
* :mod:`ronbun.experiments.units` — what every experiment shares: results saved per unit with their recipe
  (resumable), units run one by one or in parallel processes.
"""
