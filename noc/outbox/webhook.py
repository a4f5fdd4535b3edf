"""The webhook channel: POST the JSON payload, signed with HMAC-SHA256 when a secret is set."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from noc import __version__
from noc.outbox.models import OutboxMessage
from noc.outbox.service import SendError

RETRYABLE_STATUS = frozenset({408, 429})
"""4xx answers worth trying again; every 5xx is too, every other non-2xx (3xx included) is final."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Noc-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 keyed with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _retry_after(value: str | None) -> float | None:
    return float(value) if value and value.strip().isdigit() else None


class WebhookSender:
    """A :data:`~noc.outbox.service.Sender` for channel 'webhook': the destination is the URL to POST to."""

    def __init__(self, secret: str | None, timeout: float = 10.0) -> None:
        if secret == "":
            raise ValueError("empty webhook secret: pass None to send unsigned")
        self._secret = secret
        self.timeout = timeout
        self._client = httpx.Client(timeout=timeout, follow_redirects=False,
                                    headers={"User-Agent": f"noc/{__version__} outbox"})

    def __repr__(self) -> str:
        return f"WebhookSender(signed={self._secret is not None}, timeout={self.timeout})"

    def headers(self, message: OutboxMessage, body: bytes) -> dict[str, str]:
        """The request headers of ``message`` whose JSON body is ``body``."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.idempotency_key}
        event = message.data.get("event")
        if event:
            headers["X-Noc-Event"] = str(event)
        if self._secret is not None:
            headers["X-Noc-Signature"] = signature(self._secret, body)
        return headers

    def __call__(self, message: OutboxMessage) -> None:
        """POST the message; 2xx is success, 408/429/5xx and network failures are retryable, the rest final."""
        body = message.payload.encode()
        try:
            with self._client.stream("POST", message.destination, content=body,
                                     headers=self.headers(message, body)) as response:
                status, reason = response.status_code, response.reason_phrase
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise SendError(False, f"invalid webhook URL ({type(exc).__name__})") from None
        except httpx.TimeoutException as exc:
            raise SendError(True, f"timed out after {self.timeout:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise SendError(True, f"connection failed ({type(exc).__name__}: {exc})") from None
        if 200 <= status < 300:
            return
        retryable = status in RETRYABLE_STATUS or status >= 500
        note = " (redirects are not followed)" if 300 <= status < 400 else ""
        raise SendError(retryable, f"HTTP {status} {reason}{note}".strip(), retry_after=retry_after)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()
