"""What ``collectstatic`` (``make serve``) collects: every file a page loads, plotly.min.js
among them, and none of plotly's package data that nothing serves."""

from django.core.management import call_command


def test_collectstatic_collects_plotly_js_and_leaves_its_unused_package_data(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")
                 if path.is_file()}
    assert {"vendor/plotly/plotly.min.js", "js/charts.js", "js/table_scroll.js",
            "css/app.css", "seminar/packet.css"} <= collected
    assert not [path for path in collected if path.startswith("vendor/plotly/")
                and path != "vendor/plotly/plotly.min.js"]
