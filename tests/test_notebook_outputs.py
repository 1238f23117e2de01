"""Course-wide promises about stored notebooks: no raw phone numbers, no errors, stripped learner copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opskit.privacy import PHONE_IN_TEXT

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "course").rglob("*.ipynb")) + sorted((REPO / "notebooks").glob("*.ipynb"))


def outputs(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_raw_phone_and_no_error_in_stored_outputs(path):
    stored = outputs(path)
    assert not [o for o in stored if o.get("output_type") == "error"], f"{path.name} stores an error output"
    text = json.dumps(stored, ensure_ascii=False)
    hits = PHONE_IN_TEXT.findall(text)
    assert not hits, f"{path.name}: {len(hits)} unmasked phone numbers in stored outputs, e.g. {hits[0][:3]}****"


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_learner_copies_carry_no_outputs(path):
    assert outputs(path) == [], f"{path.name}: learner copies are generated without outputs (run `opskit build`)"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", sorted((REPO / "course" / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_nbval_ignore_output_only_on_widget_cells(path):
    """Stored outputs are compared in full; only a cell that shows a widget may opt out, and it must say why."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for number, cell in enumerate(cells):
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] != "code" or "NBVAL_IGNORE_OUTPUT" not in source:
            continue
        first_line = source.splitlines()[0]
        assert len(first_line.split("NBVAL_IGNORE_OUTPUT", 1)[1].strip(" #:-()")) > 5, (
            f"{path.name} cell {number}: say why on the NBVAL_IGNORE_OUTPUT line"
        )
        shows_widget = any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))
        assert shows_widget, f"{path.name} cell {number}: NBVAL_IGNORE_OUTPUT on a cell that shows no widget"
