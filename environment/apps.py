from django.apps import AppConfig


class EnvironmentConfig(AppConfig):
    name = "environment"
    verbose_name = "Environment (project shell and pages)"
