from django.apps import AppConfig


class EnvironmentConfig(AppConfig):
    name = "environment"
    verbose_name = "Environment (project shell and pages)"

    def ready(self) -> None:
        from environment import checks  # noqa: F401 - registers the system checks
