"""What every domain stands on and none owns: the transactional outbox and its consumer
registry, the metrics instruments, the funnel counters, and their tables. Imports only
`app.infra` and settings, never a domain."""
