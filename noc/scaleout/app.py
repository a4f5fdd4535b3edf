"""noc's Celery app: the broker and result store on Redis (``NOC_BROKER_URL``), one queue per poller group.

``celery -A noc.scaleout.app worker -Q noc.poll.<group>`` runs a worker as ``noc worker --poller-group`` does;
Flower takes the same ``-A noc.scaleout.app``.
"""

from __future__ import annotations

from celery import Celery

from noc.core.settings import Settings
from noc.scaleout.state import queue_of

TASKS = "noc.scaleout.tasks"
RESTORE_EVERY_S = 2
"""Seconds between a worker's sweeps for batches taken by a worker that died: such a batch is back in its queue
at most this long after the visibility timeout (Kombu's default sweeps every 100 s — a timer of 10 s scanning
on every tenth tick — longer than a segment interval, so a lost batch missed its cycle)."""
SWEEP_LOCK_S = 5
"""How long a sweep's lock (Kombu's ``unacked_mutex``) outlives a worker killed while sweeping (Kombu's default:
300 s, during which no batch came back at all). A sweep takes milliseconds; two at once are harmless, as each
batch is put back in a transaction that finds it gone when another sweep put it back first."""


def broker_key(prefix: str, name: str) -> str:
    """The Redis key of Kombu's ``name`` (a queue's list, ``unacked``) under the deployment's ``prefix``."""
    return f"{prefix}:celery:{name}"


def make_app(settings: Settings) -> Celery:
    """A Celery app on ``settings``' broker (see :func:`configure`)."""
    return configure(Celery("noc", include=[TASKS]), settings)


def configure(app: Celery, settings: Settings) -> Celery:
    """Point ``app`` at ``settings``' broker, which also keeps results: late acknowledgement (a batch taken by a
    worker that dies is handed to another after ``broker_visibility_timeout_s``, and at most
    :data:`RESTORE_EVERY_S` more, or :data:`SWEEP_LOCK_S` more when it died sweeping), one batch prefetched per
    worker thread, JSON messages, every key under ``broker_prefix``."""
    url = settings.broker_url.get_secret_value() if settings.broker_url else "redis://127.0.0.1:6379/0"
    keys = {"global_keyprefix": broker_key(settings.broker_prefix, "")}
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout_s,
                                  "unacked_restore_interval": RESTORE_EVERY_S, "unacked_restore_throttle": 1,
                                  "unacked_mutex_expire": SWEEP_LOCK_S, **keys},
        result_backend_transport_options=keys,
        result_expires=3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_default_queue=queue_of(settings.broker_prefix, "default"),
    )
    return app


app = make_app(Settings())
"""The app of the environment's settings (what ``celery -A noc.scaleout.app`` and the tasks use; ``noc worker
--poller-group`` reconfigures it with its command-line settings)."""
