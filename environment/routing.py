"""Websocket routes; each app adds its consumers here."""

from django.urls import path

from environment.consumers import StatusConsumer

websocket_urlpatterns = [
    path("ws/status/", StatusConsumer.as_asgi()),
]
