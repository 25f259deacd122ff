"""API authentication as FastAPI dependencies: `require(role)` admits a valid key whose role includes `role`.

The API accepts keys only (never the web session cookie), so a page cannot be tricked into changing state
through the API on a logged-in investigator's behalf (no CSRF surface on /api/v1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.api.app import AppState
from service.auth import Principal, Role, authenticate_key

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the key in `X-API-Key`")


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail={"code": "unauthorized", "message": message},
        headers={"WWW-Authenticate": 'Bearer realm="wro-triage"'},
    )


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    presented = bearer.credentials if bearer is not None else header
    if not presented:
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>' or 'X-API-Key'")
    state: AppState = request.app.state.triage
    found = await run_in_threadpool(authenticate_key, state.engine, presented)
    if found is None:
        raise _unauthorized("the API key is unknown or revoked")
    return found


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting keys whose role includes `role`, giving the route the caller."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not caller.role.includes(role):
            raise HTTPException(
                status_code=403,
                detail={"code": "forbidden", "message": f"this needs the {role.value} role or higher"},
            )
        return caller

    return check


Submitter = Annotated[Principal, Depends(require(Role.SUBMITTER))]
Reviewer = Annotated[Principal, Depends(require(Role.REVIEWER))]
Lead = Annotated[Principal, Depends(require(Role.LEAD))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
