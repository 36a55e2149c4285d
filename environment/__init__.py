"""The Django project: settings, urls, ASGI/Channels, the Celery app and the pages."""

from environment.celery import app as celery_app

__all__ = ["celery_app"]
