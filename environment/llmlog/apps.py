from django.apps import AppConfig


class LlmlogConfig(AppConfig):
    name = "environment.llmlog"
    label = "llmlog"
    verbose_name = "Model call traces and cache"
