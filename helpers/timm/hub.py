"""timm's Hugging Face Hub look-ups (``timm.create_model("hf-hub:OWNER/NAME")``) fail fast offline.

Without a network, timm (through huggingface_hub) retries the look-up of a hub id's
``config.json`` for half a minute or more before it gives up with a message about the connection.
Importing :mod:`helpers.timm` wraps timm's look-up: when the file is not in the local Hugging Face
cache, one connection to the hub's host, of at most :data:`PROBE_S` seconds, decides first. If the
hub cannot be reached, or ``HF_HUB_OFFLINE`` is set, the call stops at once with an ``OSError``
that names ``HF_HUB_OFFLINE`` and what to do. With a network, or a cached file, timm runs as before.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import timm.models._factory as factory

PROBE_S = 3.0  # how long the one connection attempt to the hub may take
TRUE = ("1", "on", "yes", "true")


def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _cached(model_id: str) -> bool:
    """Whether the hub id's ``config.json`` is in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        repo, _, revision = model_id.partition("@")
        return isinstance(try_to_load_from_cache(repo, "config.json", revision=revision or None), str)
    except Exception:  # an unusual id or an old huggingface_hub: let timm decide
        return False


def _reachable(url: str, timeout: float = PROBE_S) -> bool:
    """Whether one TCP connection to ``url``'s host opens within ``timeout`` seconds (DNS included)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    opened: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            opened.append(True)
        except (OSError, ValueError):
            opened.append(False)

    worker = threading.Thread(target=probe, daemon=True)  # getaddrinfo itself has no timeout
    worker.start()
    worker.join(timeout)
    return bool(opened and opened[0])


class HubUnreachableError(ConnectionError):
    """A timm hub id that cannot be looked up: no network (or offline mode), and nothing cached."""


def check_hub(model_id: str) -> None:
    """Raise :class:`HubUnreachableError` at once unless ``hf-hub:model_id`` can be looked up."""
    if _cached(model_id):
        return
    endpoint = _endpoint()
    if _offline():
        raise HubUnreachableError(
            f"HF_HUB_OFFLINE is set and the timm hub id 'hf-hub:{model_id}' is not in the local Hugging Face "
            "cache. Unset HF_HUB_OFFLINE on a machine with a network to download it once, or build the model "
            "by name and load a file you have: pretrained_cfg_overlay=dict(file='/path/to/weights')."
        )
    if not _reachable(endpoint):
        raise HubUnreachableError(
            f"cannot reach {endpoint} within {PROBE_S:g} s to look up the timm hub id 'hf-hub:{model_id}' "
            "(no network?). Set HF_HUB_OFFLINE=1 to use only what is already in the local Hugging Face cache "
            "without waiting, or build the model by name and load a file you have: "
            "pretrained_cfg_overlay=dict(file='/path/to/weights')."
        )


def _fail_fast(load: Any) -> Any:
    if getattr(load, "_t2t_fail_fast", False):
        return load

    @functools.wraps(load)
    def load_model_config_from_hf(model_id: str, *args: Any, **kwargs: Any) -> Any:
        check_hub(model_id)
        return load(model_id, *args, **kwargs)

    load_model_config_from_hf._t2t_fail_fast = True
    return load_model_config_from_hf


factory.load_model_config_from_hf = _fail_fast(factory.load_model_config_from_hf)
