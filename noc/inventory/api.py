"""Inventory endpoints: list (paged, filtered), get, create and update for each kind.

No ``from __future__ import annotations`` here: the endpoints are built per kind inside a function,
and FastAPI must see their annotations as objects, not strings.
"""

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Session

from noc.audit.service import record, search_term
from noc.core.capability import Runtime
from noc.core.http import (
    ERROR_RESPONSES,
    ApiError,
    Id,
    Paging,
    ReadSessionDep,
    ReasonHeader,
    RuntimeDep,
    SessionDep,
    require,
)
from noc.core.privacy import marks
from noc.core.security import (
    ADMINS,
    ALL_ROLES,
    NETWORK_EDITORS,
    NETWORK_READERS,
    PERSONAL_DATA_READERS,
    Principal,
    Role,
)
from noc.inventory.enums import CredentialVersion, DeviceKind, Language, SegmentKind
from noc.inventory.kinds import CONTRACT, CPE, CREDENTIAL, DEVICE, PACKAGE, SEGMENT, SUBSCRIBER, Kind
from noc.inventory.service import (
    CREDENTIALS_PURPOSE,
    InventoryWriter,
    credential_warning,
    get_by_id,
    list_query,
    page,
    to_output,
)

SEARCH_MAX = 200
"""Longest search term."""


class SubscriberFilter(Paging):
    q: str | None = Field(None, min_length=1, max_length=SEARCH_MAX, description="Part of a number, user name, "
                          "name, e-mail address or phone number (case-insensitive; % and _ are literal).")
    number: str | None = None
    username: str | None = None
    language: Language | None = None
    ssid_consent: bool | None = None


class PackageFilter(Paging):
    code: str | None = None


class ContractFilter(Paging):
    subscriber: str | None = None
    package: str | None = None


class DeviceFilter(Paging):
    name: str | None = None
    kind: DeviceKind | None = None
    enabled: bool | None = None


class SegmentFilter(Paging):
    name: str | None = None
    kind: SegmentKind | None = None
    parent: str | None = None


class CpeFilter(Paging):
    serial: str | None = None
    mac: str | None = None
    model: str | None = None
    subscriber: str | None = None
    segment: str | None = None
    enabled: bool | None = None


class CredentialFilter(Paging):
    version: CredentialVersion | None = None


def output_model(kind: Kind) -> type[BaseModel]:
    """The response shape of ``kind``: its input fields without secrets (personal ones marked as on input; those only
    some roles need may be null), plus id and timestamps."""
    needed_by = dict(kind.needed_by)
    fields: dict[str, Any] = {
        name: (cast(Any, info.annotation) | None, Field(None, json_schema_extra=marks(info.json_schema_extra),
                                             description="null unless the caller's role is one of "
                                             f"{', '.join(sorted(needed_by[name]))}"))
        if name in needed_by else (info.annotation, Field(None, json_schema_extra=marks(info.json_schema_extra)))
        for name, info in kind.schema.model_fields.items() if name not in kind.secret
    }
    return create_model(
        f"{kind.schema.__name__.removesuffix('In')}Out",
        id=(int, ...), created_at=(datetime, ...), updated_at=(datetime, ...), **fields,
    )


def patchable(info: FieldInfo) -> Any:
    """A field's type in a PATCH body: as on input (``null`` only where the field takes it), with its rules."""
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def patch_model(kind: Kind) -> type[BaseModel]:
    """The body of a partial update: every input field optional but the natural key (which cannot change), unknown
    fields refused."""
    key = {ref.field for ref in kind.refs if ref.column in kind.key} | set(kind.key)
    fields: dict[str, Any] = {name: (patchable(info), Field(None, description=info.description,
                                                            json_schema_extra=info.json_schema_extra))
                              for name, info in kind.schema.model_fields.items() if name not in key}
    return create_model(
        f"{kind.schema.__name__.removesuffix('In')}Patch", __config__=ConfigDict(extra="forbid"), **fields
    )


WARNING_HEADER = "X-Noc-Warning"
"""Carries a warning about what was stored (e.g. an SNMPv3 user that protects nothing)."""


def warn(response: Response, obj: Any) -> None:
    """Set the warning header when ``obj`` deserves one."""
    warning = credential_warning(obj)
    if warning:
        response.headers[WARNING_HEADER] = warning


def kind_router(
    kind: Kind, filters: type[Paging], readers: frozenset[Role], writers: frozenset[Role]
) -> APIRouter:
    """list/get/create/update endpoints of one kind, admitting ``readers`` and ``writers``."""
    router = APIRouter(prefix=f"/{kind.plural}", tags=[kind.plural], responses=ERROR_RESPONSES)
    out_model = output_model(kind)
    page_model = create_model(f"{out_model.__name__}Page", items=(list[out_model], ...),  # type: ignore[valid-type]
                              total=(int, ...), limit=(int, ...), offset=(int, ...))
    patch = patch_model(kind)
    create_body = kind.schema
    Reader = Annotated[Principal, Depends(require(readers))]
    Writer = Annotated[Principal, Depends(require(writers))]
    Filters = Annotated[filters, Query()]  # type: ignore[valid-type]
    noun = kind.name

    def shown(who: Principal, out: dict[str, Any]) -> dict[str, Any]:
        """``out`` with ``null`` in the fields ``who``'s role does not need."""
        for name, roles in kind.needed_by:
            if who.role not in roles:
                out[name] = None
        return out

    def committed(s: Session, who: Principal, obj: Any) -> dict[str, Any]:
        """``obj`` as answered, checked against the response model before the change commits: what cannot be
        answered is not stored."""
        out = out_model.model_validate(to_output(s, kind, obj)).model_dump()
        s.commit()
        return shown(who, out)

    def audit_read(request: Request, rt: Runtime, who: Principal, ids: list[int], reason: str, **extra: Any) -> None:
        """Audit a read of personal data, in a short write transaction of its own (the read took no lock)."""
        if kind.personal:
            with rt.db.session() as w:
                if "filters" in extra:  # what was searched for is personal too: kept as keyed hashes
                    extra["filters"] = {k: search_term(w, v) if isinstance(v, str) else v
                                        for k, v in extra["filters"].items()}
                record(w, who.actor, f"{noun}.read", noun, ",".join(map(str, ids)) or "-", reason=reason,
                       details={"path": request.url.path, **extra})

    @router.get("", response_model=page_model, summary=f"List {kind.plural}")
    def list_items(
        request: Request, rt: RuntimeDep, s: ReadSessionDep, who: Reader, query: Filters,
        reason: ReasonHeader = "",
    ) -> dict[str, Any]:
        paging = cast(Paging, query)
        values = paging.model_dump(exclude={"limit", "offset"})
        items, total = page(s, list_query(kind, values, s), paging.limit, paging.offset)
        out = {"items": [shown(who, to_output(s, kind, i)) for i in items], "total": total,
               "limit": paging.limit, "offset": paging.offset}
        audit_read(request, rt, who, [i.id for i in items], reason,
                   filters={k: v for k, v in values.items() if v is not None})
        return out

    @router.get("/{item_id}", response_model=out_model, summary=f"Get one {noun}")
    def get_item(
        request: Request, item_id: Id, rt: RuntimeDep, s: ReadSessionDep, who: Reader,
        reason: ReasonHeader = "",
    ) -> dict[str, Any]:
        out = shown(who, to_output(s, kind, get_by_id(s, kind, item_id)))
        audit_read(request, rt, who, [item_id], reason)
        return out

    @router.post("", response_model=out_model, status_code=201, summary=f"Create a {noun}")
    def create_item(
        body: create_body, rt: RuntimeDep, s: SessionDep,  # type: ignore[valid-type]
        who: Writer, response: Response, reason: ReasonHeader = "",
    ) -> dict[str, Any]:
        writer = InventoryWriter(s, who.actor, rt.secret_box(CREDENTIALS_PURPOSE), rt.events, reason=reason)
        obj, status = writer.upsert(kind, body)
        warn(response, obj)
        if status != "created":
            s.rollback()
            raise ApiError(409, "exists", f"that {noun} exists already (id {obj.id}); update it with PATCH",  # type: ignore[attr-defined]
                           kind.key[0])
        return committed(s, who, obj)

    @router.patch("/{item_id}", response_model=out_model, summary=f"Update a {noun}")
    def update_item(
        item_id: Id, body: patch, rt: RuntimeDep, s: SessionDep,  # type: ignore[valid-type]
        who: Writer, response: Response, reason: ReasonHeader = "",
    ) -> dict[str, Any]:
        writer = InventoryWriter(s, who.actor, rt.secret_box(CREDENTIALS_PURPOSE), rt.events, reason=reason)
        obj = writer.patch(kind, get_by_id(s, kind, item_id), cast(BaseModel, body).model_dump(exclude_unset=True))
        warn(response, obj)
        return committed(s, who, obj)
    return router


router = APIRouter()
"""Every inventory kind's endpoints, each admitting its readers and writers."""
for _kind, _filters, _readers, _writers in (
    (SUBSCRIBER, SubscriberFilter, PERSONAL_DATA_READERS, ADMINS),
    (CONTRACT, ContractFilter, PERSONAL_DATA_READERS, ADMINS),
    (PACKAGE, PackageFilter, ALL_ROLES, ADMINS),
    (DEVICE, DeviceFilter, ALL_ROLES, NETWORK_EDITORS),
    (SEGMENT, SegmentFilter, ALL_ROLES, NETWORK_EDITORS),
    (CPE, CpeFilter, NETWORK_READERS, NETWORK_EDITORS),
    (CREDENTIAL, CredentialFilter, NETWORK_EDITORS, NETWORK_EDITORS),
):
    router.include_router(kind_router(_kind, _filters, _readers, _writers))
