"""`flask backup` and `flask restore`: a round trip restores every table exactly (checksums) and the
signing keys, so a certificate still verifies; a damaged, foreign or missing backup is refused."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from certificates.models import Certificate
from common.extensions import db
from maintenance.backup import manifest_mac
from maintenance.checksums import table_checksums
from tests.helpers import table_counts

# Backups read through pg_dump, restores replace the tables and reconnect, another app restores: real commits.
pytestmark = pytest.mark.multiprocess


def _checksums() -> dict:
    db.session.rollback()
    with db.engine.connect() as connection:
        return table_checksums(connection)


def _wipe() -> None:
    """Lose the data: every table of the schema is dropped (PostgreSQL) or emptied (SQLite)."""
    db.session.rollback()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        else:
            connection.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


def _verify(client, certificate: Certificate):
    return client.get(f"/v/{certificate.token}", headers={"Accept": "application/json"})


def test_round_trip_restores_every_table_and_certificates_still_verify(app, client, certified, tmp_path, new_app):
    programme = certified(size=4, certified=2)
    certificate = programme.certificates[0]
    assert _verify(client, certificate).json["status"] == "valid"
    before = _checksums()
    assert before["attendance"]["rows"] == 8 and before["certificates"]["rows"] == 2

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["tables"] == before and manifest["alembic_revision"]
    assert {"current", "pdf-signer.pem"} <= {Path(name).name for name in manifest["files"] if name.startswith("keys/")}
    assert manifest["file"] in manifest["files"] and len(manifest["mac"]) == 64

    _wipe()
    # Another instance of the application, whose keys folder was lost too.
    keys = tmp_path / "new-keys"
    other = new_app({"DATABASE_URL": app.config["DATABASE_URL"], "KEYS_DIR": str(keys)})
    with other.app_context():
        refused = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")], input="n\n")
        assert refused.exit_code != 0
        result = other.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
        assert result.exit_code == 0, result.output
        assert f"({len(before)} tables)" in result.output
        after = _checksums()
        # Every table as saved, plus the restore's own audit entry.
        assert {k: v for k, v in after.items() if not k.startswith("audit")} == \
            {k: v for k, v in before.items() if not k.startswith("audit")}
        assert after["audit_entries"]["rows"] == before["audit_entries"]["rows"] + 1
        assert other.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
        answer = _verify(other.test_client(), certificate)
        assert answer.status_code == 200 and answer.json["status"] == "valid"
        assert answer.json["serial"] == certificate.serial


def test_backup_refuses_an_existing_folder(app, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "taken")])
    assert result.exit_code != 0 and "taken" in result.output


def test_restore_refuses_a_missing_or_damaged_backup_and_changes_nothing(app, certified, tmp_path):
    certified(size=2, certified=1)
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["restore", str(tmp_path / "nothing"), "--yes"])
    assert missing.exit_code != 0 and "manifest.json" in missing.output
    assert runner.invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 0
    db.session.execute(sa.text("DELETE FROM verification_counts"))  # a later change the restore would undo
    db.session.commit()
    counts, before = table_counts(), _checksums()

    database = next(p for p in (tmp_path / "backup").iterdir() if p.name.startswith("database."))
    original = database.read_bytes()
    database.write_bytes(original[:-10] + b"0123456789")
    damaged = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert damaged.exit_code != 0 and "manifest.json" in damaged.output and database.name in damaged.output
    database.write_bytes(original)

    key = next((tmp_path / "backup" / "keys").glob("*.key"))
    key.write_text("forged")
    forged = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert forged.exit_code != 0 and key.name in forged.output

    (tmp_path / "backup" / "manifest.json").write_text("{not json")
    garbled = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert garbled.exit_code != 0 and "manifest" in garbled.output
    assert table_counts() == counts and _checksums() == before


def test_restore_refuses_a_backup_of_another_kind_of_database(app, tmp_path):
    assert app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 0
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    other = "postgresql" if manifest["database"] == "sqlite" else "sqlite"
    manifest["database"] = other
    manifest["mac"] = manifest_mac(manifest)  # made by an installation with the same SECRET_KEY
    manifest_path.write_text(json.dumps(manifest))
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert result.exit_code != 0 and other in result.output and db.engine.dialect.name in result.output


# --- the manifest is authenticated, and lists every file ------------------------------------------------

def _restore(app, path) -> str:
    result = app.test_cli_runner().invoke(args=["restore", str(path), "--yes"])  # in French
    assert result.exit_code != 0, result.output
    return result.output


@pytest.fixture
def backup(app, certified, tmp_path):
    certified(size=2, certified=1)
    assert app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 0
    db.session.execute(sa.text("DELETE FROM verification_counts"))  # a later change a restore would undo
    db.session.commit()
    return tmp_path / "backup"


def test_restore_refuses_a_file_the_manifest_does_not_list(app, backup, tmp_path):
    """A planted public key would be published in the JWKS: it is refused, and nothing is restored."""
    counts, before = table_counts(), _checksums()
    keys_before = sorted(p.name for p in Path(app.config["KEYS_DIR"]).rglob("*"))
    planted = backup / "keys" / "planted.pub.pem"
    planted.write_text("-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n")
    output = _restore(app, backup)
    assert "que son manifeste ne liste pas" in output and "keys/planted.pub.pem" in output
    assert table_counts() == counts and _checksums() == before
    assert sorted(p.name for p in Path(app.config["KEYS_DIR"]).rglob("*")) == keys_before


def test_restore_refuses_an_altered_manifest(app, backup):
    counts = table_counts()
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    key = next(name for name in manifest["files"] if name.endswith(".key"))
    (backup / key).write_text("forged")
    manifest["files"][key] = hashlib.sha256(b"forged").hexdigest()  # the checksum updated to match, the MAC not
    manifest_path.write_text(json.dumps(manifest))
    assert "échoue à la vérification de son authenticité" in _restore(app, backup)
    del manifest["mac"]
    manifest_path.write_text(json.dumps(manifest))
    assert "n'est pas un manifeste de sauvegarde Kafaa" in _restore(app, backup)
    assert table_counts() == counts


def test_restore_refuses_a_backup_made_with_another_secret_key(app, backup, new_app):
    other = new_app({"DATABASE_URL": app.config["DATABASE_URL"], "KEYS_DIR": app.config["KEYS_DIR"],
                     "SECRET_KEY": "another-secret"})
    with other.app_context():
        assert "une autre SECRET_KEY" in _restore(other, backup)


def test_restore_refuses_an_unauthenticated_old_backup(app, backup):
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = "kafaa-backup/1"
    manifest_path.write_text(json.dumps(manifest))
    assert "sans manifeste authentifié" in _restore(app, backup)


def test_postgresql_tools_missing_is_said_plainly(app, tmp_path, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump is used only for PostgreSQL")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump to be found
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code != 0 and "pg_dump" in result.output
    assert not (tmp_path / "backup" / "manifest.json").exists()


def test_messages_are_translated(app, tmp_path):
    """Command output is in French by default (the tests read the English catalogue nowhere else)."""
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nothing"), "--yes"])
    assert "Aucune sauvegarde" in result.output
