"""Web accounts: Argon2 hashes, duplicate names, wrong passwords, and the generated session secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.auth import Role, UserExistsError, authenticate, create_user, session_secret
from service.config import Settings
from service.db.engine import make_engine, upgrade_database


def test_users_are_stored_with_argon2_hashes_and_authenticated(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    user = create_user(engine, " mara ", Role.LEAD, "s3cret-enough")
    assert user.name == "mara" and user.password_hash.startswith("$argon2id$")
    assert "s3cret-enough" not in user.password_hash
    with pytest.raises(UserExistsError):
        create_user(engine, "mara", Role.REVIEWER, "another-one")
    with pytest.raises(ValueError, match="at least"):
        create_user(engine, "short", Role.REVIEWER, "abc")
    found = authenticate(engine, "mara", "s3cret-enough")
    assert found is not None and found.role == "lead"
    assert authenticate(engine, "mara", "wrong password") is None
    assert authenticate(engine, "nobody", "s3cret-enough") is None
    engine.dispose()


def test_session_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(session_secret_file=tmp_path / "secret")
    first = session_secret(settings)
    assert len(first) > 40 and session_secret(settings) == first
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert session_secret(settings.model_copy(update={"session_secret": "given"})) == "given"
