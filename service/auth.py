"""Investigators' accounts for the web pages: roles, Argon2 password hashes, the session-cookie secret.

Passwords are hashed with argon2-cffi (a maintained binding of the reference implementation), never by hand.
The API's own authentication (keys and a role matrix) is a separate, later piece of work.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.audit import audit
from service.config import Settings
from service.db.engine import session_scope
from service.db.models import User


class Role(StrEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"


# Who may open the review queue and record decisions.
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.LEAD, Role.ADMIN})
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a failed login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserExistsError(ValueError):
    """A user of that name already exists."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(engine: Engine, name: str, role: Role, password: str) -> User:
    name = name.strip()
    if not name:
        raise ValueError("the user name is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    try:
        with session_scope(engine) as session:
            user = User(name=name, role=role.value, password_hash=hash_password(password))
            session.add(user)
            session.flush()
            audit(session, "user_added", None, "cli", user=name, role=role.value)
            return user
    except IntegrityError as exc:
        raise UserExistsError(name) from exc


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The active user with that name and password, else None; rehashes when Argon2's parameters changed."""
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.name == name.strip())).first()
        if user is None or not user.active:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user


def get_user(engine: Engine, user_id: str) -> User | None:
    with Session(engine) as session:
        user = session.get(User, user_id)
        return user if user is not None and user.active else None


def session_secret(settings: Settings) -> str:
    """The configured secret, or one generated on first start and kept in a file only this user can read."""
    if settings.session_secret:
        return settings.session_secret
    path = settings.session_secret_file
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        secret = secrets.token_urlsafe(48)
        handle.write(secret)
    return secret
