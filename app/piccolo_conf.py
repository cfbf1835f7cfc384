"""Piccolo's engine and app registry (`PICCOLO_CONF=app.piccolo_conf`)."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from app.infra.urls import database_url

DB = PostgresEngine(config={"dsn": database_url()})

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
