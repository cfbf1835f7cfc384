"""Admin pages: discrepancies, webhook inbox, email log, restaurants, system, analytics."""
