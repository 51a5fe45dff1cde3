"""docs/vendor-contracts.md lists every guess about AFAS and eConnect; each is marked ``[GUESS <id>]`` in the code,
once, in the file its row names. The number of markers equals the number of guessed entries."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "vendor-contracts.md"
CODE_FOLDERS = ("portal", "integrations")
MARKER = re.compile(r"\[GUESS(?: (G-[A-Z]+-\d+))?")
ROW = re.compile(r"^\| (G-[A-Z]+-\d+) \| `([^`]+)`")


def markers() -> list[tuple[str | None, str]]:
    """(id, file) of every marker; id None for a marker without one."""
    found = []
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found += [(m.group(1), path.relative_to(ROOT).as_posix()) for m in MARKER.finditer(text)]
    return found


def rows() -> list[tuple[str, str]]:
    return [m.groups() for line in DOC.read_text(encoding="utf-8").splitlines() if (m := ROW.match(line))]


def test_every_marker_names_its_entry():
    assert markers(), "no [GUESS] markers found: the search no longer matches"
    assert [file for guess, file in markers() if guess is None] == []


def test_the_number_of_markers_equals_the_number_of_guessed_entries():
    in_code, in_doc = Counter(guess for guess, _ in markers()), Counter(guess for guess, _ in rows())

    assert sum(in_code.values()) == sum(in_doc.values())
    assert [guess for guess, n in (in_code + in_doc).items() if n != 2] == []


def test_each_entry_names_the_file_that_holds_its_marker():
    where = {guess: file for guess, file in markers()}

    assert {guess: file for guess, file in rows() if where.get(guess) != file} == {}
