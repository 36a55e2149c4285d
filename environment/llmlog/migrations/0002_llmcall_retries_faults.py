from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("llmlog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="llmcall",
            name="retries",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="llmcall",
            name="faults",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
