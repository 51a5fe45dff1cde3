"""Turn a release of OpenPeppol's participant identifier scheme code list (its JSON publication, e.g.
``Peppol Code Lists - Participant identifier schemes v9.7.json`` from https://docs.peppol.eu/edelivery/codelists/)
into ``participant_schemes.json``, the facts the portal reads: per scheme its ICD code, letter code, country,
name, state, when it was deprecated or removed, what replaces it, and the examples.

    python -m integrations.peppol.scheme_list_import "Peppol Code Lists - Participant identifier schemes v9.8.json"

Replacements are not a column of the list: they come from its changelog and usage notes (``REPLACED_BY``), and a
new release's removals need an entry there (the import says which are missing)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = Path(__file__).with_name("participant_schemes.json")

# What the code list's changelog (and usage column) names as the replacement of each deprecated or removed scheme.
REPLACED_BY = {
    "0037": "0216",  # 8.9: "Use 0216 instead" (TICC-345)
    "0193": "0208",  # 9.6 usage: "Use 0208 instead"
    "0212": "0216",  # 8.9, TICC-345
    "0213": "0216",  # 8.9, TICC-345
    "0215": "0216",  # 8.9, TICC-345
    "9906": "0211",  # 8.1 (TICC-232): "Use 0211 instead"
    "9907": "0210",  # 8.1 (TICC-232): "Use 0210 instead"
    "9908": "0192",  # 8.3 (TICC-250): "Use 0192 instead"
    "9909": "0192",  # usage: "Numerical part is the OrgNumber"
    "9917": "0196",  # usage: "In favour of 0196"
    "9921": "0201",  # 6: "Deprecated 9921 - IT:IPA in favour of 0201" (TICC-101)
    "9954": "0190",  # usage: "Replaced by 0190"
    "9955": "0007",  # 8.4 (TICC-229): "Use 0007 instead"
    "9956": "0208",  # "Deprecated 9956 - BE:CBE in favour of 0208" (TICC-164)
    "9958": "0204",  # usage: "Replaced by 0204"
}


def convert(published: dict) -> dict:
    schemes = []
    for row in published["values"]:
        examples = [line.strip() for line in (row.get("examples") or "").splitlines() if line.strip()]
        schemes.append(
            {
                "icd": row["iso6523"],
                "letters": row["schemeid"],
                "country": row.get("country") or "",
                "name": " ".join((row.get("scheme-name") or "").split()),
                "state": row["state"],
                "deprecated_in": row.get("deprecation-release") or "",
                "removal_date": row.get("removal-date") or "",
                "replaced_by": REPLACED_BY.get(row["iso6523"], ""),
                "examples": examples,
            }
        )
    return {"code_list_version": published["version"], "schemes": sorted(schemes, key=lambda s: s["icd"])}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    converted = convert(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    unreplaced = [s["icd"] for s in converted["schemes"] if s["state"] != "active" and not s["replaced_by"]]
    TARGET.write_text(json.dumps(converted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{TARGET.name}: code list {converted['code_list_version']}, {len(converted['schemes'])} schemes")
    if unreplaced:
        print(f"No replacement known for the retired schemes {', '.join(unreplaced)} (REPLACED_BY)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
