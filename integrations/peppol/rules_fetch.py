"""Download the pinned official validation rules and install them as a rules pack (``peppol rules fetch``).

Every file of the pack is pinned here by its SHA-256: a download that differs in a single byte is refused, naming the
file, and nothing is installed. The addresses are those the files were published at (recorded in the pack's
VERSIONS files): the OASIS UBL 2.1 schemas from docs.oasis-open.org, the EN 16931 licence from the CEN project on
GitHub, and the compiled stylesheets of the OpenPeppol release 2026.5 and SimplerInvoicing SI-UBL 2.0.3.13 from the
phive-rules repository at a fixed commit, which redistributes them unmodified (OpenPeppol publishes them only inside
release archives). A mirror laid out like a pack (``rules/...``, ``xsd/ubl-2.1/...``) can stand in for all of them:
the SHA-256 values decide, not the address.

The files are written into a staging folder with generated VERSIONS files and installed with ``install_pack``,
which checks every file again and switches the ``current`` pointer atomically.
"""

from __future__ import annotations

import datetime
import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from integrations.http import HttpClient, RemoteError
from integrations.peppol.rules import RULES_VERSIONS, XSD_DIR, XSD_VERSIONS, InstallResult, RulesPackError, install_pack

# The largest official file is about 1 MB; anything far bigger is not what was pinned.
MAX_FILE_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_PHIVE = "https://raw.githubusercontent.com/phax/phive-rules/432f0e9a8cff5c03d06625abe7a5fd8e7e346a64"
_PHIVE_PEPPOL = f"{_PHIVE}/phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2026.5/xslt"
_PHIVE_SI = f"{_PHIVE}/phive-rules-simplerinvoicing/src/main/resources/external/schematron/simplerinvoicing"
_CEN = "https://raw.githubusercontent.com/ConnectingEurope/eInvoicing-EN16931/b6c9e06a59812fb1a83585da40923b3678a649ad"
_OASIS = "https://docs.oasis-open.org/ubl/os-UBL-2.1/xsd"


@dataclass(frozen=True)
class PinnedFile:
    path: str  # where it goes in the pack
    sha256: str
    url: str  # where its publisher released it
    content: str = ""  # for stylesheets: what the VERSIONS file says it is, with its version


RELEASE = "OpenPeppol 2026.5 (BIS Billing 3.0.21, CEN 1.3.16), SI-UBL 2.0.3.13, UBL 2.1"

PINNED: tuple[PinnedFile, ...] = (
    PinnedFile(
        "rules/CEN-EN16931-UBL.xslt",
        "a8a54aef3699057a3820cd2ebcac8ea3c364a6ebaf4a237e62064a5bc2877c4a",
        f"{_PHIVE_PEPPOL}/CEN-EN16931-UBL.xslt",
        "CEN/TC 434 EN 16931 UBL validation rules, version 1.3.16 (OpenPeppol validation artefacts release 2026.5)",
    ),
    PinnedFile(
        "rules/PEPPOL-EN16931-UBL.xslt",
        "8c6b935b1bc0bb17d29d949b0aa27ecc62021b613b9fba173cd6bfec6b3f0008",
        f"{_PHIVE_PEPPOL}/PEPPOL-EN16931-UBL.xslt",
        "OpenPeppol BIS Billing 3.0 rules, version 3.0.21 (OpenPeppol validation artefacts release 2026.5)",
    ),
    PinnedFile(
        "rules/SI-UBL-2.0.xslt",
        "995ee6cce749b5137fe2df44ffc7b6f94f715389d7ed8e1870d44d677a7a1edf",
        f"{_PHIVE_SI}/si-ubl-2.0.3.13.xslt",
        "SimplerInvoicing SI-UBL 2.0 / NLCIUS validation, version 2.0.3.13",
    ),
    PinnedFile(
        "rules/PEPPOL-EN16931-UBL-SB.xslt",
        "84dcf12a1871edc72e4026b1c7cbd79543382728709d2e4c4bcfb4d6f1ca6001",
        f"{_PHIVE_PEPPOL}/PEPPOL-EN16931-UBL-SB.xslt",
        "OpenPeppol Self-Billing 3.0 rules (OpenPeppol validation artefacts release 2026.5)",
    ),
    PinnedFile(
        "rules/SI-UBL-2.0-ext-gaccount.xslt",
        "77901ce6f0f272add05ef12bea354619a0847f10e914c10f3205b388f1d8d1b8",
        f"{_PHIVE_SI}/si-ubl-2.0-ext-gaccount-1.0.13.xslt",
        "SimplerInvoicing SI-UBL 2.0 G-account extension, version 1.0.13",
    ),
    PinnedFile(
        "rules/LICENSE-EUPL-1.2.txt",
        "fc22ec1dcd8bee4636a395fb332e2308cde870fb3fdc71a2e260b919877cdef5",
        f"{_CEN}/LICENSE.txt",
    ),
    PinnedFile(
        "rules/LICENSE-MIT-SimplerInvoicing.txt",
        "21810c25c34d5d1dee5e111762249963904aa38e32779e67f28a51976b7525c3",
        f"{_PHIVE}/phive-rules-simplerinvoicing/src/test/resources/external/test-files/simplerinvoicing/LICENSE.txt",
    ),
    *(
        PinnedFile(f"{XSD_DIR}/{name}", sha256, f"{_OASIS}/{name}")
        for sha256, name in (
            ("dd546e4809df86b6445589f69f0d6c9df162840ae386574ddfc1da7638103e15", "common/CCTS_CCT_SchemaModule-2.1.xsd"),
            ("939172ad8dd057cd403e7f763f6532184dd5ed4b9de24c42ebb35db4792ba613", "common/UBL-CommonAggregateComponents-2.1.xsd"),
            ("bd4ad043ee1d9da1c7f8018dabf739cfafdfb59143d0d16b9ef769e6b7c408a7", "common/UBL-CommonBasicComponents-2.1.xsd"),
            ("ad7a4e490978adfbcfc5ec0bb20941cf11ac960ccf0c4de8791a7c731a8dbe87", "common/UBL-CommonExtensionComponents-2.1.xsd"),
            ("3db472305f029bba5c1ae157bfd0178f715c3f9b94bd8e6c557dbce5e88da874", "common/UBL-CommonSignatureComponents-2.1.xsd"),
            ("fcee77a11870208e6377ea6311b9f2a050bca24bdad8606ea02d71e9f9e72f8d", "common/UBL-ExtensionContentDataType-2.1.xsd"),
            ("7dcb156e610239c97ae70940cf4653b88e48c3595bf5f56a2204a32e2893e6cf", "common/UBL-QualifiedDataTypes-2.1.xsd"),
            ("17bb6b62d709b4fd81449a37655af36aa6a1276ad4fdb1b2e249a5ed4b7c2172", "common/UBL-SignatureAggregateComponents-2.1.xsd"),
            ("cef924d7ba3d1d8ade14469325cde1364f8c174e46f0198ec02da8e9e748a489", "common/UBL-SignatureBasicComponents-2.1.xsd"),
            ("09052d406b4293e2a5f9c2bfee6df10ad4d8d5f0b36e24a6349d7f7936d89eb6", "common/UBL-UnqualifiedDataTypes-2.1.xsd"),
            ("a4f726bcf8cc3f7d9ffa4dab99e005535a8e8b60dced1e5d94578d2e05afa96e", "common/UBL-XAdESv132-2.1.xsd"),
            ("1fa4625e9cefcb7a9abb5ac1b64315547450031eece8a55bd584e4ba4b79dbc1", "common/UBL-XAdESv141-2.1.xsd"),
            ("101909c9f06456d61ddcc4fb982f1d40dc357b439f393b1a2eb46e42acd60809", "common/UBL-xmldsig-core-schema-2.1.xsd"),
            ("a54651b1225052f811bf2ba01346f13f2454e7cc3e0be290c91dd680dc7b7b1a", "maindoc/UBL-CreditNote-2.1.xsd"),
            ("40fae8cb436f3a9506d7acce65ba162caef3b0bed4d5cbc0992b2153ded4edf4", "maindoc/UBL-Invoice-2.1.xsd"),
        )
    ),
)  # fmt: skip


class RulesFetchError(RulesPackError):
    """A pinned file could not be downloaded, or it is not the pinned file. Nothing was installed."""


def source_url(pinned: PinnedFile, mirror: str | None) -> str:
    """The publisher's address, or the file's place under a mirror laid out like a pack."""
    return f"{mirror.rstrip('/')}/{pinned.path}" if mirror else pinned.url


def download_instructions(mirror: str | None = None) -> str:
    """What a person has to download, and where to put it, when this machine cannot reach the addresses."""
    lines = [
        "Download these files on a machine with internet access and keep their paths:",
        *(f"  {pinned.path}  <-  {source_url(pinned, mirror)}" for pinned in PINNED),
        "Put them in one folder with the same layout (rules/..., xsd/ubl-2.1/...), copy the folder here and run:",
        "  python manage.py peppol rules fetch --from-folder FOLDER",
        "(a folder that already has the VERSIONS files, such as ../shared/peppol, installs with "
        "`python manage.py peppol rules install FOLDER`).",
    ]
    return "\n".join(lines)


def fetch_pack(
    data_dir: str | Path,
    *,
    mirror: str | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[PinnedFile], None] | None = None,
    today: datetime.date | None = None,
) -> InstallResult:
    """Download every pinned file (from its publisher, or from ``mirror``), check its SHA-256, and install the pack.

    Raises ``RulesFetchError`` naming the first file that could not be downloaded or does not match; then nothing is
    installed and the current pack (if any) stays."""
    with tempfile.TemporaryDirectory(prefix="peppol-rules-") as staging_name:
        staging = Path(staging_name)
        with HttpClient(service="the rules download", timeout=FETCH_TIMEOUT, transport=transport) as http:
            for pinned in PINNED:
                if progress is not None:
                    progress(pinned)
                _write(staging / pinned.path, _download(http, pinned, mirror))
        _write_versions(staging)
        return install_pack(staging, data_dir, today=today)


def install_from_folder(
    folder: str | Path, data_dir: str | Path, *, today: datetime.date | None = None
) -> InstallResult:
    """The pinned files, downloaded elsewhere and copied into ``folder`` in the pack's layout: checked against the
    pinned SHA-256 values and installed (the folder needs no VERSIONS files)."""
    folder = Path(folder)
    with tempfile.TemporaryDirectory(prefix="peppol-rules-") as staging_name:
        staging = Path(staging_name)
        for pinned in PINNED:
            source = folder / pinned.path
            if not source.is_file():
                raise RulesFetchError(f"{pinned.path} is missing from {folder} (download it from {pinned.url})")
            content = source.read_bytes()
            _check(pinned, content, where=str(source))
            _write(staging / pinned.path, content)
        _write_versions(staging)
        return install_pack(staging, data_dir, today=today)


def _download(http: HttpClient, pinned: PinnedFile, mirror: str | None) -> bytes:
    url = source_url(pinned, mirror)
    try:
        response = http.request("GET", url)
    except RemoteError as exc:
        raise RulesFetchError(f"{pinned.path} could not be downloaded from {url}: {exc.message}") from exc
    if response.status_code != 200:
        raise RulesFetchError(f"{pinned.path} could not be downloaded from {url}: HTTP {response.status_code}")
    _check(pinned, response.content, where=url)
    return response.content


def _check(pinned: PinnedFile, content: bytes, *, where: str) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise RulesFetchError(f"{pinned.path} from {where} is {len(content):,} bytes: not the pinned file")
    actual = hashlib.sha256(content).hexdigest()
    if actual != pinned.sha256:
        raise RulesFetchError(
            f"{pinned.path} from {where} does not match its pinned SHA-256: expected {pinned.sha256}, found {actual}. "
            "Nothing was installed."
        )


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _write_versions(staging: Path) -> None:
    """The pack's VERSIONS files, in the layout ``read_pack`` reads, from the pinned list."""
    rules = [f"Official validation rules, fetched by `manage.py peppol rules fetch` ({RELEASE}).", ""]
    for pinned in PINNED:
        if not pinned.path.startswith("rules/"):
            continue
        rules.append(pinned.path.removeprefix("rules/"))
        if pinned.content:
            rules.append(f"  Content:  {pinned.content}")
        rules.append(f"  SHA-256:  {pinned.sha256}")
        rules.append(f"  Source:   {pinned.url}")
        rules.append("")
    xsd = ["OASIS UBL 2.1 OS (2013), the schema modules of UBL-Invoice-2.1.xsd and UBL-CreditNote-2.1.xsd.", ""]
    xsd += [
        f"  {pinned.sha256}  {pinned.path.removeprefix(XSD_DIR + '/')}"
        for pinned in PINNED
        if pinned.path.startswith(XSD_DIR + "/")
    ]
    _write(staging / RULES_VERSIONS, "\n".join(rules).encode())
    _write(staging / XSD_VERSIONS, ("\n".join(xsd) + "\n").encode())
