"""The package loads only what is used: the root names are lazy (PEP 562)."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in sys.modules if m.startswith('ronbun')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_building_blocks_loads_only_them():
    loaded = _loaded_after("import ronbun.nn")
    assert loaded and all(m == "ronbun" or m.startswith("ronbun.nn") for m in loaded), sorted(loaded)


def test_the_root_names_load_on_first_use():
    assert "ronbun.models" not in _loaded_after("import ronbun")
    assert "ronbun.models" in _loaded_after("import ronbun; ronbun.Transformer")
    import ronbun

    assert ronbun.TransformerConfig.preset("tiny", vocab_size=10).d_model == 64
    assert callable(ronbun.load) and "load" in dir(ronbun)
