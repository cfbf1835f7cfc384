"""Stripe stand-in: form decoding, object builders, the payment state machine and routes."""
