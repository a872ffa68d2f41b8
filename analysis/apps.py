from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        from analysis.tasks import reap_schedule_ensure

        # Set-up, not business logic: the reaper's schedule exists wherever the tables do.
        post_migrate.connect(reap_schedule_ensure, sender=self, dispatch_uid="swatch-reaper")
