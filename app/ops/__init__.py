"""Operations: health, the outbox, funnel counters, admin, metrics and analytics."""
