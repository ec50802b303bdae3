"""bundle package."""
