"""Restaurants and their menus."""
