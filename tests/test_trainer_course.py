"""The trainer kit in course/: agenda times add up, objectives and guides cover every module, the glossary covers the
code's registries, links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opskit.course import MODULES

COURSE = Path(__file__).resolve().parents[1] / "course"
ROW = re.compile(r"^\| (\d\d):(\d\d)–(\d\d):(\d\d) \| (\d+) \| (.+?) \|$")


def read(name: str) -> str:
    return (COURSE / name).read_text(encoding="utf-8")


def schedule_tables(section: str) -> list[list[tuple[int, int, int, str]]]:
    """Each timed table in ``section`` as rows (start minute, end minute, stated minutes, item)."""
    tables, current = [], []
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            h1, m1, h2, m2, minutes, item = match.groups()
            current.append((int(h1) * 60 + int(m1), int(h2) * 60 + int(m2), int(minutes), item))
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def module_minutes(tables) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for table in tables:
        for _, _, minutes, item in table:
            if re.match(r"\d\d ", item):
                found.setdefault(item[:2], []).append(minutes)
    return found


@pytest.fixture(scope="module")
def agenda():
    text = read("agenda.md")
    two_day, one_day = text.split("## 一天版")
    return schedule_tables(two_day), schedule_tables(one_day), one_day


def test_agenda_rows_add_up_and_follow_each_other(agenda):
    two_day, one_day, _ = agenda
    assert len(two_day) == 2 and len(one_day) == 1
    for table in [*two_day, *one_day]:
        for start, end, minutes, item in table:
            assert end - start == minutes, f"{item}: {start}–{end} is not {minutes} min"
        for (_, end, _, item), (start, _, _, following) in zip(table, table[1:]):
            assert end == start, f"gap or overlap between {item!r} and {following!r}"


def test_two_day_agenda_gives_every_module_its_full_time(agenda):
    two_day, _, _ = agenda
    assert module_minutes(two_day) == {m.id: [m.minutes] for m in MODULES}
    assert all(any("Break" in item for *_, item in day) and any("Lunch" in item for *_, item in day) for day in two_day)


def test_one_day_agenda_trims_to_about_six_hours_and_says_what_is_cut(agenda):
    _, one_day, text = agenda
    minutes = module_minutes(one_day)
    assert sorted(minutes) == [m.id for m in MODULES]
    teaching = sum(value for (value,) in minutes.values())
    assert 330 <= teaching <= 375
    trims = {}
    for line in text.splitlines():
        match = re.match(r"^\| (\d\d) .+? \| (\d+) \| (\d+) \| (.+) \|$", line)
        if match:
            trims[match.group(1)] = (int(match.group(2)), int(match.group(3)), match.group(4))
    for module in MODULES:
        full, short, what = trims[module.id]
        assert full == module.minutes and short == minutes[module.id][0] and short <= full
        assert len(what) > 20, f"module {module.id}: say what is shortened"
    total = re.search(r"^\| 合计 total \| (\d+) \| (\d+) \|", text, re.MULTILINE)
    assert total and int(total.group(1)) == sum(m.minutes for m in MODULES) and int(total.group(2)) == teaching


def test_objectives_cover_every_module_with_observable_items():
    text = read("objectives.md")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    assert [s[:2] for s in sections] == [m.id for m in MODULES]
    for section, module in zip(sections, MODULES):
        assert f"({module.minutes} min)" in section.splitlines()[0]
        items = re.findall(r"^\d+\. ", section, flags=re.MULTILINE)
        assert len(items) >= 3, f"module {module.id} needs at least 3 objectives"
        assert "能" in section  # the Chinese "学员能够 …" alongside


def test_glossary_covers_the_code_registries():
    from opskit.compass import KPIS
    from opskit.lifecycle import STAGES
    from opskit.rfm import scheme_table
    from opskit.schema import CHANNELS

    text = read("glossary.md")
    names = [label.zh for label in STAGES.values()] + [label.zh for label in CHANNELS.values()]
    names += [kpi.zh for kpi in KPIS.values()]
    for scheme in ("cn8", "rf10"):
        names += scheme_table(scheme)["label"].astype(str).str.split(" / ").str[0].tolist()
    missing = [name for name in names if name not in text]
    assert not missing, f"add to course/glossary.md: {missing}"
    for term in ("RFM", "BG/NBD", "Gamma-Gamma", "P(alive)", "A/B", "uplift", "holdout", "短板", "社群", "客户分层"):
        assert term in text


def test_readme_indexes_every_guide_and_its_links_resolve():
    text = read("README.md")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    for guide in sorted((COURSE / "facilitator").glob("*.md")):
        assert f"facilitator/{guide.name}" in links, f"index {guide.name} in course/README.md"
    for module in MODULES:
        assert f"facilitator/{module.stem}.md" in links
        assert f"`lesson{module.id}.py`" in text
    for link in links:
        if not link.startswith("facilitator/"):  # guides of modules still being written may not exist yet
            assert (COURSE / link).exists(), f"broken link {link}"
    assert "answer_key.json" in text


def test_facilitator_guide_00_has_every_part_and_the_right_answers():
    text = read("facilitator/00-welcome.md")
    for heading in ("## Key messages", "## Timings", "## Talking points and discussion questions", "## Answer key",
                    "## Common mistakes and how to coach them"):
        assert heading in text
    assert f"{45_870 / 108:.2f}" in text
    from opskit.schema import CHANNELS

    assert str(list(CHANNELS)).replace("'", '"') in text


def test_seed_map_maps_every_topic_and_module():
    text = read("seed-map.md")
    for topic in ("data management", "tiers", "lifecycle", "personalisation", "community", "member system", "KPIs",
                  "A/B testing", "the compass"):
        assert f"| {topic} |" in text or f" {topic} |" in text, topic
    by_module = text.split("## 按模块")[1]
    for module in MODULES:
        assert f"| {module.id} " in by_module


def test_checklist_covers_machines_offline_and_failures():
    text = read("checklist.md")
    for needle in ("python3 kit.py lab", "python3 kit.py test", "python3 kit.py offline", "--offline",
                   "opskit check-env", "spare machine", "Pair up", "Voilà", "opskit reset", "opskit progress"):
        assert needle in text, needle


def _headings(stem_prefix: str) -> list[str]:
    import json

    (path,) = sorted((COURSE / "solutions").glob(f"{stem_prefix}-*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [line.lstrip("#").strip() for cell in cells if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")]


def test_seed_map_names_real_notebook_sections():
    # Every quoted section in the map ("NN: "Heading", …") is a heading of that notebook ("…" stands for any text).
    table = [line for line in read("seed-map.md").splitlines() if line.startswith("| ") and "**" in line]
    assert len(table) == 9, "nine seed topics"
    checked = 0
    for line in table:
        sections = line.split("|")[3]
        for part in sections.split(";"):
            found = re.match(r'\s*(\d\d):(.*)', part)
            if not found:
                continue
            headings = _headings(found[1])
            for quoted in re.findall(r'"([^"]+)"', found[2]):
                pattern = ".*".join(re.escape(piece.strip()) for piece in quoted.split("…"))
                assert any(re.search(pattern, h) for h in headings), f"{found[1]}: no section {quoted!r}"
                checked += 1
    assert checked >= 30
