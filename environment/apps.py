from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class EnvironmentConfig(AppConfig):
    name = "environment"
    verbose_name = "Environment (project shell and pages)"

    def ready(self) -> None:
        from environment import checks  # noqa: F401 - registers the system checks


class StaticFilesConfig(BaseStaticFilesConfig):
    """django.contrib.staticfiles, collecting only the Phaser build the pages load.

    node_modules/phaser/dist holds eight builds (34 MB); collectstatic hashes and
    compresses (gzip + Brotli) everything it collects, which took minutes for builds no
    page uses. The pages load phaser.min.js only.
    """

    ignore_patterns = [*BaseStaticFilesConfig.ignore_patterns, "phaser.js", "phaser.esm*", "phaser-*"]
