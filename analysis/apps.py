from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from analysis import worker
        from analysis.tasks import reap_schedule_ensure

        # Set-up, not business logic: the schedules exist wherever the tables do.
        post_migrate.connect(reap_schedule_ensure, sender=self, dispatch_uid="swatch-reaper")
        post_migrate.connect(
            worker.heartbeat_schedule_ensure, sender=self, dispatch_uid="swatch-heartbeat"
        )
        # Every task's heartbeat, worker time and the request id of the request that queued it.
        pre_enqueue.connect(worker.task_tag, dispatch_uid="swatch-task-tag")
        pre_execute.connect(worker.task_started, dispatch_uid="swatch-task-started")
        post_execute_in_worker.connect(worker.task_finished, dispatch_uid="swatch-task-finished")
