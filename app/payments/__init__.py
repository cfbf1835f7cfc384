"""Payments: the Stripe gateway, webhook processing and reconciliation."""
