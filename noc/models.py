"""Imports every capability's tables so that the metadata (and Alembic) knows them all."""

from __future__ import annotations

from noc.audit import models as audit_models
from noc.auth import models as auth_models
from noc.capacity import models as capacity_models
from noc.db import Base
from noc.inventory import models as inventory_models
from noc.maintenance import models as maintenance_models
from noc.outbox import models as outbox_models
from noc.polling import models as polling_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "auth_models",
    "capacity_models",
    "inventory_models",
    "maintenance_models",
    "metadata",
    "outbox_models",
    "polling_models",
]
