"""The static files app, told what ``collectstatic`` leaves out: plotly's package data holds,
beside the plotly.min.js the pages load, its Jupyter widget bundle, sample datasets and theme
templates (about 9 MB) that nothing serves; compressing them made ``make serve`` start minutes
later."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "widgetbundle.js", "datasets",
                       "templates"]
