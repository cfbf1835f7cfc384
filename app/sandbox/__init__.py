"""Local stand-ins for Stripe and Resend (dev and tests only, never mounted in production).

`create_sandbox_app()` in `server.py` builds a separate Litestar app that speaks Stripe's API
at `/v1/…`, Resend's at `/emails…`, serves a hosted checkout page (`/pay/{id}`), a mailbox
(`/mail`), signed webhook delivery with fault injection, and a control API (`/_control/…`).
"""
