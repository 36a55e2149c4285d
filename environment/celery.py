"""The Celery app. Settings come from Django's (CELERY_* names).

Without REDIS_URL the broker is a SQLite file (kombu's SQLAlchemy transport), so a
real worker runs on one machine with nothing else installed:
    celery -A environment worker -l info
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")

app = Celery("environment")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
