"""Plotly.js is served from the pinned plotly package, and nothing else of that package is: its
widget bundle, datasets and templates (about 5 MB) would only slow collectstatic down."""

from pathlib import Path

import plotly
from django.contrib.staticfiles import finders

from decision_support.lib.static_files import PLOTLY_JS


def test_the_pages_plotly_is_the_pinned_packages_file():
    found = Path(finders.find(PLOTLY_JS))
    assert found == Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert b"plotly.js v" in found.read_bytes()[:400]


def test_no_other_file_of_the_plotly_package_is_a_static_file():
    package_data = Path(plotly.__file__).parent / "package_data"
    others = [path for path in package_data.rglob("*") if path.is_file()
              and path.name != "plotly.min.js"]
    assert others  # the package still ships them
    for path in others:
        assert finders.find(f"vendor/plotly/{path.relative_to(package_data)}") is None
    collected = [(storage.prefix, name) for finder in finders.get_finders()
                 for name, storage in finder.list([])
                 if (getattr(storage, "prefix", "") or "").startswith("vendor/plotly")]
    assert collected == [("vendor/plotly", "plotly.min.js")]
