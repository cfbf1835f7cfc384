"""`orderpass bench`: start the whole system locally and measure it (intake, webhooks, kitchen
live feed, idle SSE connections, email throughput); prints a table and writes JSON."""
