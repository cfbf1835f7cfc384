"""Operations: health, heartbeats, alerts, the on-call readings, metrics and analytics."""
