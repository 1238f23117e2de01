"""The shipped learner copies in notebooks/ are exactly what `opskit build` makes from course/solutions/."""

from __future__ import annotations

from pathlib import Path

from opskit.course import check_learner_copies_in_sync

REPO = Path(__file__).resolve().parents[1]


def test_learner_copies_are_in_sync_with_solutions():
    problems = check_learner_copies_in_sync(REPO / "course" / "solutions", REPO / "notebooks")
    assert problems == [], "notebooks/ is out of date; run `opskit build`:\n" + "\n".join(map(str, problems))
