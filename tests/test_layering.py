"""The package's floors (docs/design.md, "Layout, top-down"), enforced by reading the source.

Every module under ``src/ronbun`` is parsed (``ast``, nothing is imported); every ``import`` and
``from … import`` statement, at module level, inside a function or under ``TYPE_CHECKING``, is resolved to
an absolute name (relative imports included).  That gives the import graph between the top-level packages
("units": ``nn``, ``models``, …, and the entry modules ``api``, ``demo`` and the root ``ronbun``), which
the contracts below check.  Imports spelled as strings (``importlib.import_module``) are not seen; only the
root facade and the CLI's registry use them, and both sit on the top floor.

We chose this test over import-linter to avoid a new dependency.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ronbun"
ROOT = "ronbun"  # the unit of src/ronbun/__init__.py (the lazy facade)

#: Bottom to top.  A unit may import its own floor's units and every floor below, never one above.
FLOORS: dict[str, int] = {
    "nn": 0,
    "settings": 0,  # the settings' declaration helper: every floor's config dataclasses use it
    "models": 1,
    "text": 2,
    "data": 2,
    "training": 3,
    "generation": 3,
    "evaluation": 3,
    "mt": 4,
    "gpt": 4,
    "interop": 4,
    "inspection": 5,
    "viz": 6,
    "serve": 6,
    "experiments": 6,
    "cli": 7,
    "api": 8,
    "demo": 8,
    ROOT: 8,
}
BELOW_APPLICATIONS = {unit for unit, floor in FLOORS.items() if floor < FLOORS["mt"]}
ENTRY_POINTS = {"api", "demo", ROOT}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "ronbun.serve.app"
    line: int
    target: str  # the imported module, absolute, e.g. "ronbun.viz.attention" or "matplotlib.pyplot"

    @property
    def unit(self) -> str:
        return unit_of(self.module)

    @property
    def target_unit(self) -> str | None:
        """The ronbun unit imported, or ``None`` for a module outside ronbun."""
        return unit_of(self.target) if self.target.split(".")[0] == ROOT else None

    @property
    def external(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        path = module_path(self.module).relative_to(SRC.parent)
        return f"{path}:{self.line} ({self.module}) imports {self.target}"


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def module_path(module: str) -> Path:
    base = SRC.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def module_name(path: Path) -> tuple[str, bool]:
    """``src/ronbun/serve/app.py`` → ``("ronbun.serve.app", False)``; ``src/ronbun/nn/__init__.py`` →
    ``("ronbun.nn", True)``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every import statement of ``source`` (module ``module``) as ``(line, absolute target)``, including the
    ones inside functions and ``if TYPE_CHECKING:`` blocks.  ``from X import a`` yields ``X.a`` when ``X`` is
    the root package (``a`` may be a subpackage: ``from .. import viz``), else ``X``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level > len(package):
                    raise ValueError(f"{module}:{node.lineno}: relative import beyond the top-level package")
                base = package[: len(package) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            if origin == ROOT:
                found += [(node.lineno, f"{ROOT}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, origin))
    return found


@functools.cache
def all_imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_package = module_name(path)
        for line, target in imports_of(path.read_text(encoding="utf-8"), module, is_package):
            out.append(Import(module, line, target))
    return tuple(out)


def units() -> set[str]:
    return {unit_of(module_name(path)[0]) for path in PACKAGE.rglob("*.py")}


def offending(sources: Iterable[str], forbidden: Iterable[str]) -> list[Import]:
    sources, forbidden = set(sources), set(forbidden)
    return [
        imp
        for imp in all_imports()
        if imp.unit in sources and imp.target_unit in forbidden and imp.target_unit != imp.unit
    ]


def report(contract: str, bad: list[Import]) -> str:
    return f"contract broken: {contract}\n" + "\n".join(f"  {imp}" for imp in bad)


# -- the scanner itself --------------------------------------------------------------------------------------
def test_the_scanner_resolves_relative_and_function_level_imports():
    source = (
        "from ..viz.attention import plot_attention\n"
        "from . import app\n"
        "from .. import generation\n"
        "import ronbun.models.decoder_only\n"
        "def handler():\n"
        "    from ..models.transformer import Transformer\n"
        "    import matplotlib.pyplot as plt\n"
    )
    assert imports_of(source, "ronbun.serve.app") == [
        (1, "ronbun.viz.attention"),
        (2, "ronbun.serve"),
        (3, "ronbun.generation"),
        (4, "ronbun.models.decoder_only"),
        (6, "ronbun.models.transformer"),
        (7, "matplotlib.pyplot"),
    ]
    assert imports_of("from .state import DecoderState\n", "ronbun.nn", is_package=True) == [
        (1, "ronbun.nn.state")
    ]


def test_every_unit_has_a_floor():
    missing = sorted(units() - set(FLOORS))
    assert not missing, (
        f"src/ronbun has units without a floor: {missing}; add each to FLOORS in tests/test_layering.py "
        "and to the floors of docs/design.md"
    )
    assert set(FLOORS) - units() == set(), f"FLOORS names units that no longer exist: {set(FLOORS) - units()}"


# -- the floors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", sorted(FLOORS))
def test_no_unit_imports_a_higher_floor(unit: str):
    higher = {other for other, floor in FLOORS.items() if floor > FLOORS[unit]}
    bad = offending({unit}, higher)
    assert not bad, report(f"{unit} (floor {FLOORS[unit]}) imports nothing above its floor", bad) + "".join(
        f"\n  {imp.target_unit} is on floor {FLOORS[imp.target_unit]}" for imp in bad
    )


CONTRACTS: list[tuple[str, set[str], set[str]]] = [
    # (contract, importing units, forbidden units)
    ("nn and settings import no other ronbun package", {"nn", "settings"}, set(FLOORS) - {"nn", "settings"}),
    ("models imports only nn and settings", {"models"}, set(FLOORS) - {"models", "nn", "settings"}),
    (
        "text and data import only nn, settings and models",
        {"text", "data"},
        set(FLOORS) - {"nn", "settings", "models", "text", "data"},
    ),
    (
        "training, generation and evaluation import no application, inspection, picture, server or command",
        {"training", "generation", "evaluation"},
        {"mt", "gpt", "interop", "inspection", "viz", "serve", "cli", *ENTRY_POINTS},
    ),
    (
        "generation imports no concrete model: it drives StepFn protocols (model.step_fn builds them)",
        {"generation"},
        {"models"},
    ),
    ("nothing below the application floor imports mt or gpt", BELOW_APPLICATIONS, {"mt", "gpt"}),
    (
        "inspection imports no picture, server or command",
        {"inspection"},
        {"viz", "serve", "cli", *ENTRY_POINTS},
    ),
    ("serve imports no viz (the web server never loads the plotting code)", {"serve"}, {"viz"}),
    ("viz, serve and experiments import no cli", {"viz", "serve", "experiments"}, {"cli", *ENTRY_POINTS}),
    (
        "viz and serve import no experiment (an experiment draws through viz, never the reverse)",
        {"viz", "serve"},
        {"experiments"},
    ),
]


@pytest.mark.parametrize(
    ("contract", "sources", "forbidden"), CONTRACTS, ids=[c[0].split(":")[0] for c in CONTRACTS]
)
def test_contract(contract: str, sources: set[str], forbidden: set[str]):
    bad = offending(sources, forbidden)
    assert not bad, report(contract, bad)


# -- matplotlib stays with the pictures ----------------------------------------------------------------------
PLOTTING_UNITS = {"viz", "cli", "demo"}


def test_only_the_pictures_import_matplotlib():
    bad = [imp for imp in all_imports() if imp.external == "matplotlib" and imp.unit not in PLOTTING_UNITS]
    assert not bad, report(f"only {sorted(PLOTTING_UNITS)} import matplotlib", bad)


def test_serve_reaches_no_matplotlib_even_indirectly():
    """Follow every unit serve imports (at any depth, function-level imports included): none imports
    matplotlib."""
    graph: dict[str, set[str]] = {}
    for imp in all_imports():
        if imp.target_unit is not None and imp.target_unit != imp.unit:
            graph.setdefault(imp.unit, set()).add(imp.target_unit)
    path_to = {"serve": ["serve"]}
    todo = ["serve"]
    while todo:
        unit = todo.pop()
        for nxt in sorted(graph.get(unit, ())):
            if nxt not in path_to:
                path_to[nxt] = [*path_to[unit], nxt]
                todo.append(nxt)
    bad = [imp for imp in all_imports() if imp.external == "matplotlib" and imp.unit in path_to]
    assert not bad, report("serve never imports matplotlib, even indirectly", bad) + "".join(
        f"\n  {unit} is reached by {' → '.join(path_to[unit])}" for unit in sorted({imp.unit for imp in bad})
    )


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_server_loads_no_matplotlib():
    loaded = _loaded_after("import ronbun.serve.app")
    assert "matplotlib" not in loaded, "import ronbun.serve.app loaded matplotlib"
    assert "ronbun.viz" not in loaded, "import ronbun.serve.app loaded ronbun.viz"


def test_importing_generation_loads_no_model():
    loaded = _loaded_after("import ronbun.generation")
    assert not {m for m in loaded if m.startswith("ronbun.models")}, (
        "import ronbun.generation loaded ronbun.models"
    )


# -- one module opens checkpoints ----------------------------------------------------------------------------
#: The files of a checkpoint directory that only its module reads or writes (docs/design.md, "One way in").
CHECKPOINT_FILES = {"config.json", "model.safetensors", "task_config.json", "trainer_state.json"}
CHECKPOINT_MODULE = "ronbun.training.checkpoint"
#: interop reads and writes other projects' model folders (Hugging Face, CTranslate2), whose files share
#: these names; it opens ronbun checkpoints through the checkpoint module like everyone else.
FOREIGN_FOLDERS = {"interop"}


def _names_and_safetensors(path: Path) -> list[tuple[int, str]]:
    """String constants naming a checkpoint file (docstrings and messages excluded: only exact names) and
    imports of safetensors, in the module at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CHECKPOINT_FILES:
            found.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [(node.lineno, f"import {n}") for n in names if n.split(".")[0] == "safetensors"]
    return found


def test_only_the_checkpoint_module_opens_a_checkpoint_directory():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, _ = module_name(path)
        if module == CHECKPOINT_MODULE or unit_of(module) in FOREIGN_FOLDERS:
            continue
        bad += [
            f"  {path.relative_to(SRC.parent)}:{line} {what}" for line, what in _names_and_safetensors(path)
        ]
    assert not bad, (
        f"only {CHECKPOINT_MODULE} reads a checkpoint's files; load through load_checkpoint / load_model / "
        "read_model_config / read_task_config instead:\n" + "\n".join(bad)
    )
