"""Websocket routes; each app adds its consumers here, above the catch-all."""

from django.urls import path, re_path

from environment.consumers import NotFoundConsumer, StatusConsumer
from environment.smallville.consumers import SimulationConsumer
from environment.training.consumers import RiseRunConsumer
from environment.writer.consumers import ReaderConsumer, WriterConsumer

websocket_urlpatterns = [
    path("ws/status/", StatusConsumer.as_asgi()),
    path("ws/sim/<str:sim>/", SimulationConsumer.as_asgi()),
    path("ws/writer/<str:project>/", WriterConsumer.as_asgi()),
    path("ws/read/<str:project>/", ReaderConsumer.as_asgi()),
    path("ws/training/<str:pk>/", RiseRunConsumer.as_asgi()),
    # Last: any other path is closed with 4404 instead of Channels' "No route found" 500.
    re_path(r"", NotFoundConsumer.as_asgi()),
]
