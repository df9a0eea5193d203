"""The layer rules of ARCHITECTURE.md, checked rather than claimed.

Services, pure cores and ``common`` run without a request (the CLI, benchmarks, tests), so
they must not load Flask; the web layer (views, APIs, ``web``) is the only one that may.
And ``tm`` never imports ``glossary``: a page that shows both composes them in its view. Alignment
(``align``) is built on the TM: it may import ``tm`` and ``common``, while ``tm`` and ``glossary``
never import it, and its core only other cores.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What only the web layer may load.
WEB_ONLY = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_limiter")
#: Services that say "No Flask here", beside every core, model, repository and format module and
#: all of ``common``.
SERVICES = ("tm.service", "tm.lookup", "tm.fragments", "tm.live_index",
            "align.service", "glossary.service", "glossary.integration",
            "accounts.service", "workbench.stats", "workbench.documents", "ops.service", "jobs.service", "jobs.queue",
            "tm.jobs", "align.jobs")


def _modules_under(*patterns: str) -> list[str]:
    found = []
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.relative_to(ROOT).parts[0] == "tests":
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


FLASK_FREE = (*SERVICES, *_modules_under("*/core/*.py", "*/models.py", "*/repository.py", "*/formats/*.py",
                                         "common/*.py"))


def test_the_flask_free_layers_are_found():
    assert {"common.errors", "common.messages", "tm.core.text", "glossary.core.recognize", "tm.repository",
            "glossary.models", "tm.formats.tmx", "align.core.aligner", "align.core.evidence", "align.service",
            "align.repository", "align.models"} <= set(FLASK_FREE)
    assert not [name for name in FLASK_FREE if name.startswith("tests")]


def test_services_cores_and_common_load_no_flask():
    # One fresh interpreter in which the web-only packages cannot be imported at all: a module
    # that loads one, however indirectly, fails to import, whatever was imported before it.
    script = (
        "import importlib, importlib.abc, sys, traceback\n"
        f"WEB_ONLY = {WEB_ONLY!r}\n"
        "class Refuse(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in WEB_ONLY:\n"
        "            raise ImportError(f'{name} is web-only')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as err:\n"
        "        where = [f'{f.filename}:{f.lineno}' for f in traceback.extract_tb(err.__traceback__)\n"
        "                 if not f.filename.startswith('<')][-1:]\n"
        "        failed.append(f'{name}: {err} (imported at {where})')\n"
        "print('\\n'.join(failed))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *FLASK_FREE], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == ""


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_tm_never_imports_glossary():
    wrong = [f"{path.relative_to(ROOT)}:{line}: {name}"
             for path in sorted((ROOT / "tm").rglob("*.py"))
             for line, name in _imports(path) if name.split(".")[0] == "glossary"]
    assert wrong == []


def _imports_of_package(package: str) -> list[tuple[str, int, str]]:
    return [(str(path.relative_to(ROOT)), line, name)
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, name in _imports(path)]


def test_tm_and_glossary_never_import_align():
    wrong = [f"{path}:{line}: {name}" for package in ("tm", "glossary")
             for path, line, name in _imports_of_package(package) if name.split(".")[0] == "align"]
    assert wrong == []


def test_align_never_imports_glossary():
    # The glossary's term pairs reach the aligner through the app (app.extensions), not an import.
    wrong = [f"{path}:{line}: {name}" for path, line, name in _imports_of_package("align")
             if name.split(".")[0] == "glossary"]
    assert wrong == []


def test_the_alignment_core_imports_only_cores():
    areas = {"tm", "glossary", "align", "accounts", "cattools", "workbench", "web", "db", "app", "demo"}
    wrong = [f"{path}:{line}: {name}" for path, line, name in _imports_of_package("align/core")
             if name.split(".")[0] in areas and name.split(".")[1:2] != ["core"]]
    assert wrong == []
    assert any(name.startswith("tm.core") for _, _, name in _imports_of_package("align/core"))


def test_common_imports_no_area_and_nothing_of_the_web():
    areas = {"tm", "glossary", "accounts", "cattools", "workbench", "web", "db", "app", "demo"}
    wrong = [f"{path.relative_to(ROOT)}:{line}: {name}"
             for path in sorted((ROOT / "common").glob("*.py"))
             for line, name in _imports(path)
             if name.split(".")[0] in areas or name.split(".")[0] in WEB_ONLY]
    assert wrong == []


def _application_modules() -> list[Path]:
    return [path for path in sorted(ROOT.rglob("*.py"))
            if path.relative_to(ROOT).parts[0] not in ("tests", "bench", ".venv", "migrations")]


def test_app_extensions_are_reached_through_their_accessors():
    # One typed accessor per extension (web/extensions.py): a key spelt in two places drifts.
    wrong = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in _application_modules() if path != ROOT / "web" / "extensions.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if ".extensions[" in line or ".extensions.get(" in line]
    assert wrong == []


def test_views_import_no_api_module():
    # What a page and an API share lives in the area's webutil (or web/), not in either of them.
    wrong = [f"{path.relative_to(ROOT)}:{line}: {name}"
             for path in _application_modules() if path.name.endswith("views.py")
             for line, name in _imports(path)
             if name.split(".")[-1] == "api" or name.split(".")[-1].endswith("_api")]
    assert wrong == []
