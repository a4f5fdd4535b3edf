"""How each inventory kind maps between its input shape and its table."""

from __future__ import annotations

from dataclasses import dataclass, field

from noc.core.db import Base
from noc.core.security import ADMINS, PERSONAL_DATA_READERS, Role
from noc.inventory.models import Contract, Cpe, Credential, Device, Package, Segment, Subscriber
from noc.inventory.privacy import PERSONAL_FIELDS
from noc.inventory.schemas import (
    ContractIn,
    CpeIn,
    CredentialIn,
    DeviceIn,
    InventoryInput,
    PackageIn,
    SegmentIn,
    SubscriberIn,
)


@dataclass(frozen=True)
class Ref:
    """An input field that names another object by its natural key."""

    field: str
    column: str
    model: type[Base]
    key: str


@dataclass(frozen=True)
class Kind:
    """One inventory kind: its table, input shape, natural key and references."""

    name: str
    plural: str
    model: type[Base]
    schema: type[InventoryInput]
    key: tuple[str, ...]
    """Columns that identify a row (after references are resolved)."""
    refs: tuple[Ref, ...] = ()
    unique: tuple[str, ...] = ()
    """Other columns that must be unique, checked with a clear message before writing."""
    special: tuple[str, ...] = ()
    """Input fields handled by the kind's own code rather than copied to a column."""
    secret: tuple[str, ...] = ()
    """Input fields never shown in output."""
    personal: bool = False
    """Rows hold subscribers' personal data: reads are audited and limited to some roles."""
    personal_fields: tuple[str, ...] = ()
    """Columns that identify a person: a change audits keyed hashes of the old and new values, never the values."""
    needed_by: tuple[tuple[str, frozenset[Role]], ...] = ()
    """Output fields only some roles' work needs (field, roles): the API answers others ``null`` in their place."""
    order: int = 0
    """Position in an import: references point to kinds with a lower order."""
    ref_by_field: dict[str, Ref] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref_by_field", {ref.field: ref for ref in self.refs})

    def columns(self) -> list[str]:
        """Input fields that are plain columns of the table."""
        return [f for f in self.schema.model_fields if f not in self.ref_by_field and f not in self.special]


CREDENTIAL = Kind(
    "credential", "credentials", Credential, CredentialIn, ("name",),
    special=("community", "auth_key", "priv_key"), secret=("community", "auth_key", "priv_key"), order=0,
)
PACKAGE = Kind("package", "packages", Package, PackageIn, ("code",), order=1)
SUBSCRIBER = Kind(
    "subscriber", "subscribers", Subscriber, SubscriberIn, ("number",),
    unique=("username",), special=("notification_opt_outs",), personal=True, personal_fields=PERSONAL_FIELDS,
    needed_by=(("tax_number", ADMINS),), order=2,
)
CONTRACT = Kind(
    "contract", "contracts", Contract, ContractIn, ("subscriber_id", "start_date"),
    refs=(Ref("subscriber", "subscriber_id", Subscriber, "number"), Ref("package", "package_id", Package, "code")),
    personal=True, order=3,
)
DEVICE = Kind(
    "device", "devices", Device, DeviceIn, ("name",),
    refs=(Ref("credential", "credential_id", Credential, "name"),), order=4,
)
SEGMENT = Kind(
    "segment", "segments", Segment, SegmentIn, ("name",),
    refs=(Ref("parent", "parent_id", Segment, "name"),), special=("members",), order=5,
)
CPE = Kind(
    "cpe", "cpes", Cpe, CpeIn, ("serial",),
    refs=(
        Ref("credential", "credential_id", Credential, "name"),
        Ref("subscriber", "subscriber_id", Subscriber, "number"),
        Ref("segment", "segment_id", Segment, "name"),
    ),
    unique=("mac",), needed_by=(("subscriber", PERSONAL_DATA_READERS),), order=6,
)

KINDS: dict[str, Kind] = {k.plural: k for k in (CREDENTIAL, PACKAGE, SUBSCRIBER, CONTRACT, DEVICE, SEGMENT, CPE)}
"""Every kind by its plural name (the YAML section, CSV file name and API path)."""
