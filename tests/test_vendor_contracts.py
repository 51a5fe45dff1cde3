"""docs/vendor-contracts.md lists every guess about AFAS and eConnect that the code marks ``[GUESS]``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "vendor-contracts.md"
CODE_FOLDERS = ("portal", "integrations")
MARKER = "[GUESS"


def files_with_guesses() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for folder in CODE_FOLDERS
        for path in (ROOT / folder).rglob("*.py")
        if MARKER in path.read_text(encoding="utf-8")
    }


def files_named_in_the_doc() -> set[str]:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    return {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}


def test_every_file_with_a_guess_is_listed():
    found = files_with_guesses()

    assert found, "no [GUESS] markers found: the search no longer matches"
    assert found - files_named_in_the_doc() == set()


def test_every_file_listed_still_holds_a_guess():
    assert files_named_in_the_doc() - files_with_guesses() == set()
