"""`peppol rules fetch`: the pinned official files, downloaded (here from ../shared/peppol served over a local HTTP
server, in place of the publishers), checked against their pinned SHA-256 and installed; offline, what to download."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from integrations.peppol.rules import installed_pack_dir, read_pack
from integrations.peppol.rules_fetch import PINNED
from portal.core.peppol import active_rules_pack, get_validator
from tests.portal.core.conftest import peppol_rules
from tests.shared_artefacts import require_shared_peppol


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1; yields a function that returns its base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_pinned_files_are_exactly_the_official_pack_in_shared():
    shared = read_pack(require_shared_peppol())

    assert {(f.path, f.sha256) for f in PINNED} == {(f.path, f.sha256) for f in shared.files}


def test_fetch_downloads_checks_and_installs_a_working_pack(data_dir, serve):
    mirror = serve(require_shared_peppol())

    status, output, error = peppol_rules("fetch", "--from", mirror)

    assert status == 0, error
    assert f"Downloading {len(PINNED)} files" in output
    assert (
        "Installed CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13, UBL 2.1 (22 files, SHA-256 verified)"
        in output
    )
    assert installed_pack_dir(data_dir) is not None
    assert active_rules_pack().usable
    corpus = require_shared_peppol() / "corpus" / "valid"
    document = next(path for path in sorted(corpus.iterdir()) if path.suffix == ".xml")
    result = get_validator().validate(document.read_bytes())
    assert not result.structural_only and result.rules_version.startswith("CEN 1.3.16")


def test_a_file_that_differs_from_its_pin_is_refused_by_name_and_nothing_is_installed(data_dir, pack_copy, serve):
    tampered = pack_copy / "rules" / "PEPPOL-EN16931-UBL.xslt"
    tampered.write_bytes(tampered.read_bytes().replace(b"PEPPOL-EN16931-R001", b"PEPPOL-EN16931-R999", 1))

    status, _, error = peppol_rules("fetch", "--from", serve(pack_copy))

    assert status == 1
    assert "rules/PEPPOL-EN16931-UBL.xslt from http://127.0.0.1:" in error
    assert "does not match its pinned SHA-256" in error
    assert installed_pack_dir(data_dir) is None


def test_offline_it_says_what_to_download_and_where_to_put_it(data_dir):
    status, _, error = peppol_rules("fetch", "--from", "http://127.0.0.1:9")

    assert status == 1
    assert "could not be downloaded from http://127.0.0.1:9/rules/CEN-EN16931-UBL.xslt" in error
    assert "Download these files on a machine with internet access" in error
    assert "xsd/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd  <-  http://127.0.0.1:9/xsd/ubl-2.1/maindoc/" in error
    assert "peppol rules fetch --from-folder FOLDER" in error
    assert installed_pack_dir(data_dir) is None


def test_the_instructions_name_the_publishers_addresses():
    from integrations.peppol.rules_fetch import download_instructions

    text = download_instructions()

    assert "https://docs.oasis-open.org/ubl/os-UBL-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd" in text
    assert "openpeppol/2026.5/xslt/PEPPOL-EN16931-UBL.xslt" in text


def test_files_downloaded_elsewhere_install_from_a_folder_without_versions_files(data_dir, pack_copy):
    (pack_copy / "rules" / "VERSIONS.txt").unlink()
    (pack_copy / "xsd" / "ubl-2.1" / "VERSIONS.txt").unlink()

    status, output, error = peppol_rules("fetch", "--from-folder", pack_copy)

    assert status == 0, error
    assert "(22 files, SHA-256 verified)" in output
    assert active_rules_pack().usable


def test_a_missing_file_in_the_folder_is_named(data_dir, pack_copy):
    (pack_copy / "xsd" / "ubl-2.1" / "common" / "UBL-XAdESv141-2.1.xsd").unlink()

    status, _, error = peppol_rules("fetch", "--from-folder", pack_copy)

    assert status == 1
    assert "xsd/ubl-2.1/common/UBL-XAdESv141-2.1.xsd is missing" in error
    assert installed_pack_dir(data_dir) is None


def test_make_runs_one_line_says_what_no_pack_means(data_dir):
    status, output, _ = peppol_rules("status", "--short")

    assert status == 1
    assert output.count("\n") == 1
    assert "NOT against the official Peppol rules" in output and "peppol rules fetch" in output


def test_the_one_line_names_an_active_pack(settings):
    settings.PEPPOL_RULES_DIR = str(require_shared_peppol())

    status, output, _ = peppol_rules("status", "--short")

    assert status == 0
    assert output.startswith(
        "Peppol rules: CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13, UBL 2.1"
    )
