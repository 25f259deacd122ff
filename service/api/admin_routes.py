"""Administration routes: API keys (admin) and the audit chain's verification (lead). Thin, like the others."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.routes import API, State
from service.api.schemas import ErrorOut
from service.api.security import Admin, Lead
from service.audit import verify_audit_chain
from service.auth import Role, create_api_key, list_api_keys, revoke_api_key
from service.db.models import ApiKey

router = APIRouter(tags=["admin"])


class ApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    role: Role


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        return cls.model_validate(row, from_attributes=True)


class ApiKeyIssued(ApiKeyOut):
    key: str = Field(description="the key itself; shown this once and never stored")


class ChainOut(BaseModel):
    intact: bool
    broken_at: int | None = Field(description="id of the first audit event that does not verify")
    reason: str | None


@router.post(f"{API}/apikeys", response_model=ApiKeyIssued, status_code=201)
def create_key(body: ApiKeyRequest, state: State, caller: Admin) -> ApiKeyIssued:
    issued = create_api_key(state.engine, body.name, body.role, caller.actor)
    return ApiKeyIssued(**ApiKeyOut.of(issued.key).model_dump(), key=issued.secret)


@router.get(f"{API}/apikeys", response_model=list[ApiKeyOut])
def get_keys(state: State, _caller: Admin) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(row) for row in list_api_keys(state.engine)]


@router.delete(f"{API}/apikeys/{{key_id}}", response_model=ApiKeyOut, responses={404: {"model": ErrorOut}})
def revoke_key(key_id: str, state: State, caller: Admin) -> ApiKeyOut:
    return ApiKeyOut.of(revoke_api_key(state.engine, key_id, caller.actor))


@router.get(f"{API}/audit/verify", response_model=ChainOut)
def verify_chain(state: State, _caller: Lead) -> ChainOut:
    broken = verify_audit_chain(state.engine)
    return ChainOut(
        intact=broken is None,
        broken_at=broken.event_id if broken else None,
        reason=broken.reason if broken else None,
    )
