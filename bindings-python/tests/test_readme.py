"""The README's Python quick tour is executable documentation: it runs as written and
stays identical to examples/python/quick_tour.py, which mypy --strict checks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_the_readme_python_quick_tour_runs() -> None:
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "the README should hold exactly one Python block, the quick tour"
    namespace: dict[str, object] = {"__name__": "readme_quick_tour"}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert "bridge" in namespace and "invoice" in namespace


def test_the_readme_quick_tour_is_the_checked_example() -> None:
    (block,) = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    example = (ROOT / "examples" / "python" / "quick_tour.py").read_text(encoding="utf-8")
    assert block == example
