"""Lesson 01 notebook: stored outputs hold no raw phone number, and it shows the exact reproduction check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "course" / "solutions" / "01-customer-data.ipynb"
PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def outputs() -> list[str]:
    if not NOTEBOOK.is_file():
        pytest.skip("lesson 01 notebook not present")
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            texts.append(json.dumps(output, ensure_ascii=False))
    return texts


def test_no_raw_phone_in_stored_outputs(outputs):
    assert outputs, "the solution notebook is committed with outputs"
    hits = [PHONE.search(t).group(0)[:3] + "…" for t in outputs if PHONE.search(t)]
    assert not hits, f"unmasked phone-like numbers in outputs: {hits}"


def test_shows_the_reproduction_check_and_all_checks_pass(outputs):
    text = "\n".join(outputs)
    assert "the three exports reproduce the canonical orders exactly" in text
    assert text.count("Correct!") >= 5 and "\\u2717" not in text and "✗" not in text
    assert "error" not in {json.loads(t).get("output_type") for t in outputs}
