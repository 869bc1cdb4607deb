from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    verbose_name = "Lead distribution"
    default_auto_field = "django.db.models.BigAutoField"
