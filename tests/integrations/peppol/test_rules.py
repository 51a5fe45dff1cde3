from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from integrations.peppol.rules import (
    CEN,
    PEPPOL,
    SI_UBL,
    RulesPackError,
    install_pack,
    installed_pack_dir,
    installed_packs,
    load_verified_pack,
    read_pack,
    read_pack_kept,
    sha256_of,
    verify_pack,
)


@pytest.fixture
def pack_copy(shared_peppol, tmp_path) -> Path:
    """A writable copy of the official pack (rules/ and xsd/ only, like a downloaded pack)."""
    pack = tmp_path / "source" / "peppol-rules"
    shutil.copytree(shared_peppol / "rules", pack / "rules")
    shutil.copytree(shared_peppol / "xsd", pack / "xsd")
    for path in pack.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return pack


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def zip_directory(directory: Path, zip_path: Path, *, prefix: str = "peppol-rules/") -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(directory).as_posix())
    return zip_path


def assert_nothing_installed(data_dir: Path) -> None:
    assert installed_pack_dir(data_dir) is None
    assert installed_packs(data_dir) == []
    packs = data_dir / "packs"
    assert not packs.exists() or list(packs.iterdir()) == []  # no staging leftovers either


# --- reading and verifying ------------------------------------------------------------------------------------------


def test_the_official_pack_lists_its_versions_and_every_file_with_its_sha256(shared_peppol):
    pack = read_pack(shared_peppol)

    assert pack.label == "CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13"
    assert [pack.version_of(s) for s in (CEN, PEPPOL, SI_UBL)] == ["1.3.16", "3.0.21", "2.0.3.13"]
    assert pack.xsd_version == "2.1"
    paths = {f.path for f in pack.files}
    assert len(paths) == 22  # 5 stylesheets (incl. self-billing and G-account) + 2 licences + 15 schema modules
    assert {
        "rules/CEN-EN16931-UBL.xslt",
        "rules/LICENSE-EUPL-1.2.txt",
        "xsd/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    } <= paths
    cen = next(f for f in pack.files if f.path == "rules/CEN-EN16931-UBL.xslt")
    assert cen.sha256 == "a8a54aef3699057a3820cd2ebcac8ea3c364a6ebaf4a237e62064a5bc2877c4a"  # not the upstream build's


def test_the_official_pack_verifies(shared_peppol):
    verify_pack(read_pack(shared_peppol))


def test_a_changed_file_fails_verification_naming_it(pack_copy):
    (pack_copy / "xsd/ubl-2.1/common/UBL-CommonBasicComponents-2.1.xsd").write_text("<changed/>")

    with pytest.raises(RulesPackError, match=r"xsd/ubl-2.1/common/UBL-CommonBasicComponents-2.1.xsd does not match"):
        load_verified_pack(pack_copy)


def test_a_directory_without_rules_is_not_a_pack(tmp_path):
    with pytest.raises(RulesPackError, match="no rules/ folder"):
        read_pack(tmp_path)


def test_a_pack_without_the_xsd_versions_file_is_refused(pack_copy):
    (pack_copy / "xsd/ubl-2.1/VERSIONS.txt").unlink()

    with pytest.raises(RulesPackError, match="xsd/ubl-2.1/VERSIONS.txt is missing"):
        read_pack(pack_copy)


def test_a_versions_file_with_an_unsafe_path_is_refused(pack_copy):
    versions = pack_copy / "xsd/ubl-2.1/VERSIONS.txt"
    versions.write_text(versions.read_text() + f"  {'0' * 64}  ../../../etc/passwd\n")

    with pytest.raises(RulesPackError, match="unsafe path"):
        read_pack(pack_copy)


# --- installing -----------------------------------------------------------------------------------------------------


def test_installing_a_directory_copies_the_verified_pack_and_makes_it_current(pack_copy, data_dir):
    result = install_pack(pack_copy, data_dir)

    current = installed_pack_dir(data_dir)
    assert current == result.pack.root.resolve()
    assert current.parent == (data_dir / "packs").resolve()
    assert current.name.startswith("cen-1.3.16_peppol-3.0.21_si-ubl-2.0.3.13_")
    assert (data_dir / "current").is_symlink()
    load_verified_pack(current)
    assert sha256_of(current / "rules/SI-UBL-2.0.xslt") == sha256_of(pack_copy / "rules/SI-UBL-2.0.xslt")
    assert result.already_installed is False and result.previous is None


def test_installing_a_zip_with_a_top_level_folder(pack_copy, data_dir, tmp_path):
    archive = zip_directory(pack_copy, tmp_path / "pack.zip")

    result = install_pack(archive, data_dir)

    assert installed_pack_dir(data_dir) == result.pack.root.resolve()
    assert result.pack.label == "CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13"


def test_installing_the_same_pack_twice_reuses_its_folder(pack_copy, data_dir):
    first = install_pack(pack_copy, data_dir)
    second = install_pack(pack_copy, data_dir)

    assert second.already_installed
    assert second.pack.root == first.pack.root
    assert len(installed_packs(data_dir)) == 1


def test_a_newer_pack_becomes_current_and_the_old_one_is_kept(pack_copy, data_dir):
    first = install_pack(pack_copy, data_dir)
    licence = pack_copy / "rules/LICENSE-EUPL-1.2.txt"
    old_sha = sha256_of(licence)
    licence.write_text("changed licence text\n")
    versions = pack_copy / "rules/VERSIONS.txt"
    versions.write_text(versions.read_text().replace(old_sha, sha256_of(licence)))

    second = install_pack(pack_copy, data_dir)

    assert installed_pack_dir(data_dir) == second.pack.root.resolve() != first.pack.root.resolve()
    assert second.previous == first.pack.root.resolve()
    assert len(installed_packs(data_dir)) == 2


def test_a_sha256_mismatch_refuses_the_whole_pack_and_installs_nothing(pack_copy, data_dir):
    (pack_copy / "rules/PEPPOL-EN16931-UBL.xslt").write_bytes(b"<xsl:stylesheet/>")

    with pytest.raises(RulesPackError, match=r"rules/PEPPOL-EN16931-UBL.xslt does not match its SHA-256"):
        install_pack(pack_copy, data_dir)

    assert_nothing_installed(data_dir)


def test_a_missing_file_refuses_the_whole_pack_naming_it(pack_copy, data_dir):
    (pack_copy / "xsd/ubl-2.1/common/UBL-XAdESv141-2.1.xsd").unlink()

    with pytest.raises(RulesPackError, match=r"xsd/ubl-2.1/common/UBL-XAdESv141-2.1.xsd is missing"):
        install_pack(pack_copy, data_dir)

    assert_nothing_installed(data_dir)


def test_a_failed_install_leaves_the_current_pack_in_place(pack_copy, data_dir):
    first = install_pack(pack_copy, data_dir)
    (pack_copy / "rules/CEN-EN16931-UBL.xslt").write_bytes(b"tampered")

    with pytest.raises(RulesPackError):
        install_pack(pack_copy, data_dir)

    assert installed_pack_dir(data_dir) == first.pack.root.resolve()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize("evil_name", ["../evil.txt", "peppol/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"])
def test_a_zip_with_path_traversal_is_refused_and_writes_nothing_outside(pack_copy, data_dir, tmp_path, evil_name):
    archive = zip_directory(pack_copy, tmp_path / "pack.zip")
    with zipfile.ZipFile(archive, "a") as extra:
        extra.writestr(evil_name, b"gotcha")

    with pytest.raises(RulesPackError, match="unsafe path"):
        install_pack(archive, data_dir)

    assert_nothing_installed(data_dir)
    assert not (tmp_path / "evil.txt").exists() and not (data_dir / "evil.txt").exists()


def test_a_zip_with_a_symbolic_link_is_refused(data_dir, tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        link = zipfile.ZipInfo("peppol/rules/VERSIONS.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(link, "/etc/passwd")

    with pytest.raises(RulesPackError, match="symbolic link"):
        install_pack(archive, data_dir)

    assert_nothing_installed(data_dir)


def test_a_zip_bomb_is_refused(data_dir, tmp_path):
    archive = write_zip(tmp_path / "bomb.zip", {"peppol/rules/VERSIONS.txt": b"\0" * (20 * 1024 * 1024)})

    with pytest.raises(RulesPackError, match="zip bomb"):
        install_pack(archive, data_dir)

    assert_nothing_installed(data_dir)


def test_a_zip_without_a_pack_is_refused(data_dir, tmp_path):
    archive = write_zip(tmp_path / "other.zip", {"readme.txt": b"hello"})

    with pytest.raises(RulesPackError, match="No rules/VERSIONS.txt"):
        install_pack(archive, data_dir)


def test_a_file_that_is_neither_directory_nor_zip_is_refused(data_dir, tmp_path):
    not_a_zip = tmp_path / "pack.tar"
    not_a_zip.write_bytes(io.BytesIO(b"plain").getvalue())

    with pytest.raises(RulesPackError, match="neither a directory nor a zip"):
        install_pack(not_a_zip, data_dir)


def test_the_current_pointer_is_relative_so_the_data_directory_can_move(pack_copy, data_dir):
    install_pack(pack_copy, data_dir)

    assert not os.path.isabs(os.readlink(data_dir / "current"))


def test_a_pack_read_again_is_kept_until_its_versions_files_change(pack_copy):
    first = read_pack_kept(pack_copy)
    assert read_pack_kept(pack_copy) is first  # validation asks per document: not read again

    versions = pack_copy / "rules/VERSIONS.txt"
    versions.write_text(versions.read_text(encoding="utf-8") + "\nEffective from: 2030-01-01\n", encoding="utf-8")
    changed = read_pack_kept(pack_copy)

    assert changed is not first
    assert changed.effective_from is not None and first.effective_from is None


def test_a_kept_pack_that_disappears_is_refused_as_before(pack_copy):
    read_pack_kept(pack_copy)
    (pack_copy / "xsd/ubl-2.1/VERSIONS.txt").unlink()

    with pytest.raises(RulesPackError, match="xsd/ubl-2.1/VERSIONS.txt is missing"):
        read_pack_kept(pack_copy)
