"""The registry's tables get the names of the app they move to (``registry``), keeping their
rows, keys, indexes and constraints; ``registry.0001_initial`` then takes the models over."""

from django.db import migrations

MOVED = ("modelartifact", "trainingrun", "trainedmodel", "trainingjob")


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0004_trainingrun_excluded_by_split'),
    ]

    operations = [migrations.AlterModelTable(name=name, table=f"registry_{name}") for name in MOVED]
