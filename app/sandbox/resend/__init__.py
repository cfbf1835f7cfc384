"""Resend stand-in: `/emails`, `/emails/batch`, `/emails/{id}`, the mailbox and delivery events."""
