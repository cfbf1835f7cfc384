"""Where Postgres and Redis are: the environment first, else a running `orderpass dev`."""

from __future__ import annotations

from app.infra.dev_servers import running_servers
from app.settings import SettingsError, get_settings

NOT_FOUND = (
    "{name} is not set and no `orderpass dev` is running with ORDERPASS_DATA_DIR={data_dir}: "
    "set {name} or start `orderpass dev` first"
)


def _resolve(name: str, key: str) -> str:
    settings = get_settings()
    configured: str = getattr(settings, key)
    if configured:
        return configured
    servers = running_servers(settings.data_dir)
    if servers is None:
        raise SettingsError(NOT_FOUND.format(name=name, data_dir=settings.data_dir))
    return servers[key]


def database_url() -> str:
    return _resolve("DATABASE_URL", "database_url")


def redis_url() -> str:
    return _resolve("REDIS_URL", "redis_url")
