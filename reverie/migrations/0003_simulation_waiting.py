from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reverie", "0002_run_control_and_snapshots"),
    ]

    operations = [
        migrations.AddField(
            model_name="simulation",
            name="waiting_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="simulation",
            name="waiting_reason",
            field=models.TextField(blank=True, default=""),
        ),
    ]
