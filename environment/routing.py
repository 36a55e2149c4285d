"""Websocket routes; each app adds its consumers here."""

from django.urls import path

from environment.consumers import StatusConsumer
from environment.smallville.consumers import SimulationConsumer

websocket_urlpatterns = [
    path("ws/status/", StatusConsumer.as_asgi()),
    path("ws/sim/<str:sim>/", SimulationConsumer.as_asgi()),
]
