"""``GET /polling/workers``: poller groups, their live workers, newest cycles and lag (scaled-out polling)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from noc.core.errors import Conflict
from noc.core.http import ERROR_RESPONSES, ReadSessionDep, RuntimeDep, require
from noc.core.security import NETWORK_READERS, Principal
from noc.core.settings import Settings
from noc.scaleout.service import Observer, configured_groups

router = APIRouter(tags=["polling"], responses=ERROR_RESPONSES)
NetworkReader = Annotated[Principal, Depends(require(NETWORK_READERS))]


_OBSERVERS: dict[str, Observer] = {}


def _observer(settings: Settings) -> Observer:
    """One observer per broker, prefix and intervals (settings themselves are not hashable)."""
    key = repr((settings.broker_url and settings.broker_url.get_secret_value(), settings.broker_prefix,
                settings.poll_segment_interval_s, settings.poll_cpe_interval_s))
    if key not in _OBSERVERS:
        _OBSERVERS[key] = Observer.of(settings)
    return _OBSERVERS[key]


@router.get("/polling/workers")
def workers(rt: RuntimeDep, s: ReadSessionDep, _: NetworkReader) -> dict[str, Any]:
    """Each poller group with the workers consuming its queue, its newest segment and CPE cycles (batches
    sent and stored, lag past the interval); 409 when polling runs in-process (no ``NOC_BROKER_URL``)."""
    if rt.settings.broker_url is None:
        raise Conflict("broker_url", "polling runs in-process: set NOC_BROKER_URL to scale it out to workers")
    return _observer(rt.settings).overview(sorted(configured_groups(s)))
