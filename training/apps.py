from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "RISE and Retroformer training and evaluation"
