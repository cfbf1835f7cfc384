"""Piccolo migrations for Orderpass, written as explicit SQL so constraints are visible."""
