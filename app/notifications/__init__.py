"""Notifications: email composition, the Resend and SMTP transports, delivery tracking."""
