"""Who am I: the caller's user name and role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from noc.core.http import ERROR_RESPONSES, require
from noc.core.security import ALL_ROLES, Principal

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)


class MeOut(BaseModel):
    name: str
    role: str


@router.get("/me", response_model=MeOut, summary="The caller's user and role")
def me(who: Annotated[Principal, Depends(require(ALL_ROLES))]) -> MeOut:
    return MeOut(name=who.name, role=who.role.value)
