"""When this web process started, set once at import. The kitchen board carries it
(`data-server-since`): a screen back from an outage that finds another value knows the
server itself was gone, so payments' webhooks may have failed meanwhile and their orders can
still arrive (Stripe's retries, the reconciliation job), rather than its own Wi-Fi dropping."""

from __future__ import annotations

import os
import time

SERVER_SINCE = f"{time.time_ns()}-{os.getpid()}"
