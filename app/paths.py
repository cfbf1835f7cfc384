"""Where the non-Python parts of the project live (the user's top-level folders)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
COMPONENTS = ROOT / "components"
STATIC = ROOT / "static"
