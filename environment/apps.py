from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class EnvironmentConfig(AppConfig):
    name = "environment"
    verbose_name = "Environment (project shell and pages)"

    def ready(self) -> None:
        from environment import checks  # noqa: F401 - registers the system checks


class StaticFilesConfig(BaseStaticFilesConfig):
    """django.contrib.staticfiles, collecting only the Phaser build and font files the pages load.

    node_modules/phaser/dist holds eight builds (34 MB); collectstatic hashes and
    compresses (gzip + Brotli) everything it collects, which took minutes for builds no
    page uses. The pages load phaser.min.js only.
    """

    ignore_patterns = [
        *BaseStaticFilesConfig.ignore_patterns, "phaser.js", "phaser.esm*", "phaser-*",
        # web fonts (css/fonts.css): only the regular woff2 subsets of Noto Sans SC are used
        "noto-sans-sc-*.woff", "noto-sans-sc-*-[1235-9]00-normal.woff2", "twemoji.scss",
    ]  # fmt: skip
