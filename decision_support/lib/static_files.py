"""Plotly.js for the pages, from the pinned plotly package, so no page needs a CDN."""

import importlib.util
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds the one file of the plotly package the pages load. The package's other data (a
    5 MB widget bundle, datasets, templates) is not served, so collectstatic does not spend
    minutes compressing it."""

    def __init__(self, *args, **kwargs):
        package = Path(importlib.util.find_spec("plotly").submodule_search_locations[0])
        self.storage = FileSystemStorage(location=package / "package_data")
        self.storage.prefix = PLOTLY_JS.rpartition("/")[0]  # collectstatic's path for the file

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False):
        found = [self.storage.path(path.rpartition("/")[2])] if path == PLOTLY_JS else []
        return found[0] if found and not find_all else found  # a miss is [], as Django's finders

    def list(self, ignore_patterns):
        yield PLOTLY_JS.rpartition("/")[2], self.storage
