"""Small builders shared by the foundation tests."""

from __future__ import annotations

from typing import Any

VALID_TAX = "28159080"

SMALL_INVENTORY: dict[str, list[dict[str, Any]]] = {
    "credentials": [{"name": "lab-v2c", "version": "v2c", "community": "s3cret-community"},
                    {"name": "lab-v3", "version": "v3", "v3_user": "noc", "auth_proto": "SHA256",
                     "auth_key": "authpass123", "priv_proto": "AES", "priv_key": "privpass123"}],
    "packages": [{"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10}],
    "subscribers": [
        {"number": "S-1", "username": "jnovak", "name": "Janez Novak", "phone": "+386 41 123 456",
         "email": "janez.novak@example.si", "tax_number": VALID_TAX, "ssid_consent": True},
        {"number": "S-2", "username": "mhorvat", "name": "Maja Horvat", "language": "en",
         "notification_opt_outs": ["maintenance"]},
    ],
    "contracts": [{"subscriber": "S-1", "package": "cable-100", "start_date": "2024-01-01"}],
    "devices": [{"name": "cmts-1", "kind": "cmts", "address": "127.0.0.1", "port": 16161, "credential": "lab-v2c"}],
    "segments": [
        {"name": "sg-1", "kind": "access", "parent": "agg-1",
         "members": [{"device": "cmts-1", "if_index": 1001, "direction": "down"},
                     {"device": "cmts-1", "if_name": "Cable1/0-up0", "direction": "up"}]},
        {"name": "agg-1", "kind": "aggregation"},
    ],
    "cpes": [{"serial": "CM0001", "mac": "AA-BB-CC-00-00-01", "model": "TC4400", "subscriber": "S-1",
              "segment": "sg-1", "credential": "lab-v2c", "address": "127.0.0.1"}],
}
