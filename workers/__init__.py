"""arq worker processes: WorkerSettings and the jobs, which call the same services as the web."""
