"""ronbun's benchmark suite: ours and the references (Hugging Face, ``torch.nn.Transformer``) side by side.

``python -m benchmarks.run`` (or ``make bench``) runs everything and prints the tables that
``docs/performance.md`` records.  Every comparison builds both sides with identical sizes, data, batch and
precision (and, where both can hold them, identical weights), times them interleaved in one process after a
warm-up, and reports medians.  See ``docs/performance.md`` for the method and the recorded numbers.
"""
