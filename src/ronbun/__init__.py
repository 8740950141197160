"""ronbun: the Transformer and GPT-1, built for real."""
