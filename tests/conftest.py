"""Shared fixtures for the whole suite.

- ``browser_type_launch_args``: pytest-playwright drives Debian's Chromium (``/usr/bin/chromium``);
  ``playwright install`` cannot download browsers here. Run ``make chromium`` if it is missing.
- ``demo_cohort``: a small generated cohort (300 patients, seed 1).
- ``make_user`` / ``signed_in_user``: a user with a known password in one of the role groups;
  ``signed_in_client``: pytest-django's ``client``, signed in as ``signed_in_user``.
- ``audit_checkpoint_file``: every test has its own audit checkpoint file (autouse), never var/.
- ``inline_tasks``: tasks (training jobs) run inline when queued (autouse); worker tests override it.

``make test`` runs the suite in parallel (pytest-xdist, one worker per core), a module to a worker
(``ModuleScheduling``): a module's trained run is set up once.
"""

import os
from pathlib import Path

import pytest

# Sync Playwright runs an event loop in the test thread; without this, ORM calls in live_server
# tests raise SynchronousOnlyOperation. Must be set before any test runs.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEST_PASSWORD = "correct-horse-battery-staple-42"
# Packages whose conftest trains a run for the whole package: one worker runs each of them whole.
WHOLE_PACKAGES = ("tests/api/", "tests/safeguards/", "tests/seminar/")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        """xdist's ``--dist loadscope``, but a test module is never split by class, each of
        ``WHOLE_PACKAGES`` goes to one worker, and modules are handed out in the order
        ``pytest_collection_modifyitems`` leaves them (slow first), not the most tests first."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return next((package for package in WHOLE_PACKAGES if module.startswith(package)),
                        module)

    config.option.loadscopereorder = False  # as --no-loadscope-reorder
    return ModuleScheduling(config, log)


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests", action="store_true",
        help="run only the tests that use the suite's database (a test database fixture, the "
             "django_db mark or the uses_database mark): CI's second run, on PostgreSQL, where "
             "the other tests would repeat the first run exactly")


def _uses_database(item) -> bool:
    return "django_db_setup" in item.fixturenames or any(
        item.get_closest_marker(name) for name in ("django_db", "uses_database"))


def pytest_collection_modifyitems(config, items):
    """With ``--database-tests``, the others are deselected (and counted as such). The tests of
    modules with a test marked ``slow`` go first (a stable sort): ``ModuleScheduling`` hands out
    modules in the order of their first tests, so the longest are not left to run alone at the
    end."""
    if config.getoption("database_tests"):
        deselected = [item for item in items if not _uses_database(item)]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if _uses_database(item)]
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(scope="session", autouse=True)
def _audit_outside_var(tmp_path_factory):
    """Checkpoints written while the test database is migrated go to a temporary file; on
    PostgreSQL every test connection may TRUNCATE the audit table, as flushing a transactional
    test's database does (the trigger refuses it elsewhere)."""
    from django.db.backends.signals import connection_created
    from django.test import override_settings

    from decision_support.audit.models import TRUNCATE_ESCAPE_SETTING

    def allow_truncate(sender, connection, **kwargs):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET {TRUNCATE_ESCAPE_SETTING} = on")

    connection_created.connect(allow_truncate)
    with override_settings(AUDIT_CHECKPOINT_FILE=tmp_path_factory.mktemp("audit") / "migrate.jsonl"):
        yield
    connection_created.disconnect(allow_truncate)


@pytest.fixture(autouse=True)
def inline_tasks(settings):
    """Tasks (training jobs) run inline, at enqueue, inside the transaction that queued them, so a
    test sees a job finished when the request returns; no heartbeat thread, which could not write
    beside that transaction. Tests of the workers themselves override ``TASKS`` back to the
    database backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.TRAINING_HEARTBEAT_SECONDS = 0


@pytest.fixture(autouse=True)
def audit_checkpoint_file(settings, tmp_path_factory):
    """This test's audit checkpoint file, begun as migrating an empty log begins it: with a signed
    checkpoint of no entries (every test starts with an empty log). Not in ``tmp_path``, where a
    test may run a process with its own ``DATA_DIR`` and key."""
    from decision_support.audit.checkpoints import checkpoint_append
    from decision_support.audit.models import GENESIS_HASH

    settings.AUDIT_CHECKPOINT_FILE = tmp_path_factory.mktemp("audit") / "checkpoints.jsonl"
    checkpoint_append(count=0, head=GENESIS_HASH)
    return settings.AUDIT_CHECKPOINT_FILE


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options (--headed, --slowmo, ...) plus Debian's Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's Chromium. Run `make chromium` "
            "(or `apt-get install chromium`); `playwright install` cannot work here.",
            pytrace=False,
        )
    args = CHROMIUM_ARGS
    if browser_type_launch_args.get("headless") is False:  # pytest --headed
        args = [a for a in args if a != "--headless"]
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": args}


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """The same as pytest-playwright 0.10's fallback ``base_url`` (``--base-url`` or the
    ``base_url`` ini value), defined here because that fallback is a session fixture written as an
    instance method, which pytest 9 deprecates with a warning (an error under this pytest.ini)."""
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None


@pytest.fixture
def demo_cohort(db):
    """A small generated cohort (300 patients, seed 1) with its ground truth."""
    from decision_support.cohorts.services import cohort_generate

    return cohort_generate(n_patients=300, seed=1)


@pytest.fixture
def make_user(db):
    """Factory: ``make_user(role="educator", username=None, course=None)`` -> a user whose
    password is ``TEST_PASSWORD`` (also set as ``user.raw_password``), holding that role: a data
    steward in the site-wide group, any other role in ``course`` (the default course, where
    ``demo_cohort`` is, if none is given).

    The group and the default course are re-created if missing: transactional tests flush the
    tables, including what the data migrations created.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from decision_support.accounts.roles import SITE_ROLES, Role
    from decision_support.courses.models import Course, Membership

    def make(role: str = Role.EDUCATOR, username: str | None = None, course=None):
        role = Role(role)
        user = get_user_model().objects.create_user(
            username=username or f"test_{role.value}", password=TEST_PASSWORD
        )
        if role in SITE_ROLES:
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        else:
            Membership.objects.create(user=user, course=course or Course.objects.default(),
                                      role=role.value)
        user.raw_password = TEST_PASSWORD
        return user

    return make


@pytest.fixture
def signed_in_user(make_user):
    """An educator with a known password (``user.raw_password``); sign in with
    ``client.force_login(user)`` or, in a browser test, through the sign-in form."""
    return make_user("educator")


@pytest.fixture
def signed_in_client(client, signed_in_user):
    """pytest-django's test ``client``, signed in as ``signed_in_user``."""
    client.force_login(signed_in_user)
    return client
