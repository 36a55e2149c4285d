from django.apps import AppConfig


class ReverieConfig(AppConfig):
    name = "reverie"
    verbose_name = "Smallville simulations"
