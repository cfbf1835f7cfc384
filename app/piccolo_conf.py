"""Piccolo's engine and app registry (`PICCOLO_CONF=app.piccolo_conf`)."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from app.infra.urls import database_url
from app.settings import get_settings

# asyncpg takes the config as is, for the pool and for every new connection: each statement
# and each connect has a limit (see Settings.db_command_timeout_seconds).
DB = PostgresEngine(config={
    "dsn": database_url(),
    "command_timeout": get_settings().db_command_timeout_seconds,
    "timeout": get_settings().db_connect_timeout_seconds,
})

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
