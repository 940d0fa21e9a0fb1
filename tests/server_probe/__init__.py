"""A test-only settings module for servers started by tests/test_servers.py: the site's settings
and URLs plus two diagnostic pages, never part of the app's own URLs."""
