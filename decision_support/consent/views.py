"""Views of the consent app."""
