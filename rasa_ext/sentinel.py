"""Rasa's tracker and lock stores on a Redis master found through Sentinel, so a failover needs no restart.

Rasa 3.6 connects its Redis stores to one fixed host. These subclasses ask the Sentinels for the
master of ``service_name`` instead (redis-py's ``Sentinel.master_for``): after a failover the next
command finds the new master by itself. Everything else is the parent's: the bounded tracker of
``rasa_ext.tracker_store`` and Rasa's own ``RedisLockStore``.

endpoints.yml (ops/rasa/endpoints-sentinel.yml)::

    tracker_store:
      type: rasa_ext.sentinel.SentinelTrackerStore
      sentinels: 10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379
      service_name: samvad-rasa
      db: 0
    lock_store:
      type: rasa_ext.sentinel.SentinelLockStore
      sentinels: ...  # the same
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock_store import RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
from redis.sentinel import Sentinel

from rasa_ext.tracker_store import WindowedRedisTrackerStore

SOCKET_TIMEOUT_S = 10.0  # as Rasa's RedisLockStore (DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)


def parse_sentinels(sentinels: str | list[str]) -> list[tuple[str, int]]:
    """ "host:port,host:port" (or a YAML list of them) as Sentinel wants them."""
    items = sentinels.split(",") if isinstance(sentinels, str) else list(sentinels)
    found = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a sentinel is host:port, not {item!r}")
        found.append((host, int(port)))
    if not found:
        raise ValueError("no sentinels given (sentinels: host:port,host:port)")
    return found


def master(
    sentinels: str | list[str],
    service_name: str,
    *,
    db: int | str = 0,
    password: str | None = None,
    decode_responses: bool = False,
) -> Any:
    """A client of the current master of `service_name`; it follows a failover by itself."""
    sentinel = Sentinel(parse_sentinels(sentinels), socket_timeout=SOCKET_TIMEOUT_S)
    return sentinel.master_for(
        service_name,
        db=int(db),
        password=password or None,
        socket_timeout=SOCKET_TIMEOUT_S,
        decode_responses=decode_responses,
    )


class SentinelTrackerStore(WindowedRedisTrackerStore):
    """The bounded Redis tracker store, on the master the Sentinels name."""

    def __init__(
        self,
        domain: Domain,
        sentinels: str | list[str] = "localhost:26379",
        service_name: str = "samvad-rasa",
        db: int | str = 0,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # `url:` in endpoints.yml: unused, the Sentinels say where the master is
        super().__init__(domain, db=db, **kwargs)
        self.red = master(sentinels, service_name, db=db, password=password, decode_responses=True)


class SentinelLockStore(RedisLockStore):
    """Rasa's Redis lock store, on the master the Sentinels name.

    Rasa makes a lock store named by its module path with ``endpoint_config=`` only: the settings are read
    from that config's keys (``sentinels``, ``service_name``, ``db``, ``password``, ``key_prefix``).
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **settings: Any) -> None:
        settings = {**(endpoint_config.kwargs if endpoint_config else {}), **settings}
        db = int(settings.get("db", 1))
        super().__init__(db=db, key_prefix=settings.get("key_prefix"))
        self.red = master(
            settings.get("sentinels", "localhost:26379"),
            settings.get("service_name", "samvad-rasa"),
            db=db,
            password=settings.get("password"),
        )
