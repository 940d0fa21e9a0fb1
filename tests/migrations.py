"""Moving the test database to a migration and back, for tests of data migrations."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets):
    """Migrate to ``targets`` ([(app, migration name)]); the apps as of them."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    """Migrate every app to its last migration."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
