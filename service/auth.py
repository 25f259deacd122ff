"""Who may do what: roles, investigators' web accounts (Argon2 passwords, the session-cookie secret) and API keys.

Passwords are hashed with argon2-cffi (a maintained binding of the reference implementation), never by hand.
API keys are 256-bit random tokens shown once at creation; only their sha256 is stored (a slow hash protects
guessable secrets, and these are not guessable). A key names its own row (`wro_<id>_<secret>`), so checking
one is a primary-key read and a constant-time comparison of digests, with no lookup keyed on the secret.
Roles are ordered: each includes everything the roles below it may do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.audit import audit
from service.config import Settings
from service.db.engine import session_scope
from service.db.models import ApiKey, User, utcnow
from service.errors import NotFoundError


class Role(StrEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"

    def includes(self, other: Role) -> bool:
        """Whether this role may do what `other` may."""
        return _RANK[self] >= _RANK[other]


_RANK = {Role.SUBMITTER: 0, Role.REVIEWER: 1, Role.LEAD: 2, Role.ADMIN: 3}

# Who may open the review queue and record decisions.
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.LEAD, Role.ADMIN})
KEY_PREFIX = "wro_"
_ID_LENGTH = 32
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


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the key's id, name and role."""

    key_id: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        """How the audit log names this caller: by key id, which stays meaningful after a rename."""
        return f"apikey:{self.key_id}"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` is the whole key, shown once and never stored."""

    key: ApiKey
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(engine: Engine, name: str, role: Role, actor: str = "cli") -> IssuedKey:
    name = name.strip()
    if not name or len(name) > 128:
        raise ValueError("the key name must have 1 to 128 characters")
    with session_scope(engine) as session:
        row = ApiKey(name=name, role=role.value, key_hash="", created_by=actor)
        secret = f"{KEY_PREFIX}{row.id}_{secrets.token_urlsafe(32)}"
        row.key_hash = _digest(secret)
        session.add(row)
        session.flush()
        audit(session, "apikey_created", None, actor, key_id=row.id, role=role.value)
        return IssuedKey(row, secret)


def authenticate_key(engine: Engine, presented: str) -> Principal | None:
    """The principal of an active key, else None."""
    if not presented.startswith(KEY_PREFIX) or len(presented) < len(KEY_PREFIX) + _ID_LENGTH + 2:
        return None
    key_id = presented[len(KEY_PREFIX) : len(KEY_PREFIX) + _ID_LENGTH]
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        stored = row.key_hash if row is not None else _digest(secrets.token_urlsafe(16))
        matches = hmac.compare_digest(stored, _digest(presented))
        if row is None or not matches or row.revoked_at is not None:
            return None
        return Principal(key_id=row.id, name=row.name, role=Role(row.role))


def list_api_keys(engine: Engine) -> Sequence[ApiKey]:
    with Session(engine) as session:
        return session.exec(select(ApiKey).order_by(col(ApiKey.created_at))).all()


def revoke_api_key(engine: Engine, key_id: str, actor: str = "cli") -> ApiKey:
    """Revoke a key (idempotent); the row stays, so the audit log's `apikey:<id>` actors keep a meaning."""
    with session_scope(engine) as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise NotFoundError(f"api key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit(session, "apikey_revoked", None, actor, key_id=key_id)
        return row
