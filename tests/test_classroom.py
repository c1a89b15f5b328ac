"""The classroom kit (book/classroom/): its pages are in the book, the lab path names sections that exist and
fills two hours, the sheet and the rubric agree, and the class edition drops every model answer."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = REPO_ROOT / "book" / "classroom"
PAGES = ["lab", "lab_sheet", "rubric", "discussion", "instructor_notes"]


def _build_book_module():
    spec = importlib.util.spec_from_file_location("build_book", REPO_ROOT / "scripts" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _headings(notebook_number: str) -> dict[str, str]:
    """{'2.4': 'A ceiling for the output layer', …} of notebooks/0N_*.md."""
    (path,) = (REPO_ROOT / "notebooks").glob(f"0{notebook_number}_*.md")
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^## (\d\.\d) (.+)$", path.read_text(), re.M)}


def test_every_classroom_page_is_in_the_table_of_contents():
    toc = yaml.safe_load((REPO_ROOT / "book" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for page in PAGES:
        assert (CLASSROOM / f"{page}.md").is_file()
        assert f"classroom/{page}" in files
        assert (CLASSROOM / f"{page}.md").read_text().startswith("# ")


def test_the_lab_path_fills_two_hours_with_sections_that_exist():
    text = (CLASSROOM / "lab.md").read_text()
    rows = re.findall(r"^\| (\d):(\d\d)–(\d):(\d\d) \| ([^|]+) \|", text, re.M)
    assert rows, "no time table found"
    minutes = [(60 * int(a) + int(b), 60 * int(c) + int(d)) for a, b, c, d, _ in rows]
    assert minutes[0][0] == 0 and minutes[-1][1] == 120
    assert all(end > start for start, end in minutes)
    assert all(minutes[i][1] == minutes[i + 1][0] for i in range(len(minutes) - 1)), "the time marks must be contiguous"
    for *_, where in rows:
        sections = re.findall(r"§(\d)\.(\d) ([^;]+)", where)
        assert sections, where
        for n, m, title in sections:
            headings = _headings(n)
            assert f"{n}.{m}" in headings, f"§{n}.{m} is not a section of notebook {n}"
            assert headings[f"{n}.{m}"].startswith(title.strip()), (title, headings[f"{n}.{m}"])


def test_the_sheet_and_the_rubric_cover_the_same_questions():
    sheet = (CLASSROOM / "lab_sheet.md").read_text()
    questions = [int(q) for q in re.findall(r"^(\d+)\. ", sheet, re.M)]
    assert questions == list(range(1, len(questions) + 1)) and len(questions) == 12
    for n, m in re.findall(r"§(\d)\.(\d)", sheet):
        assert f"{n}.{m}" in _headings(n)
    rubric = (CLASSROOM / "rubric.md").read_text()
    answers = rubric[rubric.index("## What a 2-point answer contains"):rubric.index("## Summary of the marks")]
    marked = [int(q) for q in re.findall(r"^\| (\d+) \| ", answers, re.M)]
    assert marked == questions
    assert f"out of {2 * len(questions)} points" in rubric


def test_every_discussion_question_has_a_folded_model_answer():
    text = (CLASSROOM / "discussion.md").read_text()
    labels = re.findall(r"^```\{exercise\}.*\n:label: (\S+)", text, re.M)
    answers = re.findall(r"^```\{solution\} (\S+)\n:class: dropdown", text, re.M)
    assert len(labels) >= 5 and answers == labels


def test_the_class_edition_drops_the_model_answers_and_keeps_the_questions():
    strip = _build_book_module().strip_page_solutions
    text = (CLASSROOM / "discussion.md").read_text()
    stripped = strip(text)
    assert "{solution}" not in stripped and "Not by itself" not in stripped
    assert stripped.count("{exercise}") == text.count("{exercise}")
    for page in PAGES:
        if page != "discussion":
            assert strip((CLASSROOM / f"{page}.md").read_text()) == (CLASSROOM / f"{page}.md").read_text()


@pytest.mark.parametrize("fence", ["```", "````", ":::"])
def test_strip_page_solutions_handles_plain_and_gated_solutions(fence):
    strip = _build_book_module().strip_page_solutions
    text = (f"before\n\n{fence}{{exercise}} Q\n:label: q\n\nAsk.\n{fence}\n\n"
            f"{fence}{{solution}} q\n:class: dropdown\n\nSECRET one\n{fence}\n\nmiddle\n\n"
            f"{fence}{{solution-start}} q\n:class: dropdown\n{fence}\n\nSECRET two\n\n"
            f"{fence}{{solution-end}}\n{fence}\n\nafter\n")
    out = strip(text)
    assert "SECRET" not in out and "solution" not in out
    assert "before" in out and "Ask." in out and "middle" in out and out.rstrip().endswith("after")
