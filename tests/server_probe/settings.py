from decision_support.settings import *  # noqa: F403

ROOT_URLCONF = "tests.server_probe.urls"
