"""Form safety for the web pages: a per-session CSRF token and per-address rate limits.

The CSRF token is a random value kept in the signed session cookie and echoed in every form (or in the
X-CSRF-Token header for the coaching requests); a POST without the matching value is refused. Rate limits use
the `limits` library's moving window in process memory, which fits the single-process embedded product; a
scaled-out deployment would point it at shared storage.
"""

from __future__ import annotations

import hmac
import secrets

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(_SESSION_KEY)
    if not isinstance(expected, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class RateLimits:
    """Named buckets, each with its own limit, counted per client address."""

    def __init__(self, limits: dict[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(value) for name, value in limits.items()}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, bucket: str, request: Request) -> bool:
        """Count one request; False when the address is over the bucket's limit."""
        client = request.client.host if request.client else "unknown"
        return self._limiter.hit(self._items[bucket], bucket, client)
