"""Orderpass: payment-first ordering for restaurants."""

import os

# Piccolo finds its engine through this module path; tests and the CLI share it.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
