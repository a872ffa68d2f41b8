"""What models say about an image: its structured description and its embeddings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from pgvector.django import VectorField

from materials.models import MaterialImage


class AnalysisStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FAILED = "failed", "Failed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AnalysisSource(models.TextChoices):
    MODEL = "model", "Vision model"
    OFFLINE = "offline", "Offline analyser"
    CURATED = "curated", "Curated"


class VisualAnalysis(models.Model):
    """The design's `material_visual_analysis`: one current analysis per image."""

    image = models.OneToOneField(MaterialImage, on_delete=models.CASCADE, related_name="analysis")
    status = models.CharField(
        max_length=20, choices=AnalysisStatus.choices, default=AnalysisStatus.PENDING
    )
    source = models.CharField(max_length=10, choices=AnalysisSource.choices, blank=True)
    # The validated structured description (current: the curator's version wins).
    description = models.JSONField(default=dict, blank=True)
    # What the model said, as validated, before any curation: kept for the review diff.
    model_output = models.JSONField(default=dict, blank=True)
    material_type = models.CharField(max_length=50, blank=True, db_index=True)
    confidence = models.FloatField(null=True, blank=True)
    model_id = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=50, blank=True)
    depth = models.CharField(max_length=20, blank=True)  # basic | detailed | comprehensive
    # What the describer could not do at that depth (the offline analyser: no finish, use, care).
    depth_note = models.CharField(max_length=300, blank=True)
    error_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its task was last queued (or is due, for a delayed retry) and with which options:
    # the reaper queues a lost task again from these (analysis/queueing.py).
    queued_at = models.DateTimeField(null=True, blank=True)
    queue_options = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "material_visual_analysis"
        verbose_name = "visual analysis"
        verbose_name_plural = "visual analyses"
        ordering = ["-updated_at"]
        indexes = [
            GinIndex(fields=["description"], name="analysis_description_gin"),
            models.Index(fields=["status", "confidence"], name="analysis_status_conf"),
        ]

    def __str__(self) -> str:
        return f"analysis of {self.image_id} ({self.status})"


class EmbeddingKind(models.TextChoices):
    IMAGE = "image", "Image"
    DESCRIPTION = "description", "Description text"


class Embedding(models.Model):
    """A vector with the name of the model that made it.

    The column is an unconstrained `vector`: each model gets a partial HNSW expression index
    (`(vector::vector(N)) … WHERE model = '…' AND kind = '…'`), see migrations and DESIGN.md.
    """

    image = models.ForeignKey(MaterialImage, on_delete=models.CASCADE, related_name="embeddings")
    kind = models.CharField(max_length=20, choices=EmbeddingKind.choices)
    model = models.CharField(max_length=100)
    dimensions = models.PositiveIntegerField()
    vector = VectorField()
    # Hash of what was embedded (image bytes or description text): stale when it changes.
    source_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["image", "kind", "model"], name="embedding_one_per_image_kind_model"
            )
        ]
        indexes = [models.Index(fields=["model", "kind"], name="embedding_model_kind")]

    def __str__(self) -> str:
        return f"{self.kind} embedding of {self.image_id} by {self.model}"


class ModelCallPurpose(models.TextChoices):
    DESCRIBE = "describe", "Describe an image"
    EMBED_IMAGE = "embed_image", "Embed images"
    EMBED_TEXT = "embed_text", "Embed texts"


class ModelCallOutcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    TIMEOUT = "timeout", "Timeout"
    RATE_LIMITED = "rate_limited", "Rate limited"
    CIRCUIT_OPEN = "circuit_open", "Skipped: circuit open"
    INVALID_OUTPUT = "invalid_output", "Invalid output"
    LIMITED = "limited", "Not sent: over a limit or budget"


class ModelCall(models.Model):
    """The model-call ledger: one row per call of a provider, whatever its outcome.

    Holds no user data: the image only by its sha256, no prompt or answer text.
    """

    provider = models.CharField(max_length=50)
    model = models.CharField(max_length=200)
    purpose = models.CharField(max_length=20, choices=ModelCallPurpose.choices)
    started_at = models.DateTimeField(db_index=True)
    latency_ms = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=1)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    outcome = models.CharField(max_length=20, choices=ModelCallOutcome.choices)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    image_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    depth = models.CharField(max_length=20, blank=True)  # of a description (analysis.depth)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["model", "started_at"], name="modelcall_model_started")]

    def __str__(self) -> str:
        return f"{self.purpose} by {self.provider}/{self.model}: {self.outcome}"


# --- curation (analysis.curation, analysis.admin) -----------------------------------------
class ReviewQueueItem(VisualAnalysis):
    """The curation queue in the admin: analyses a person should look at (see
    `analysis.curation.selectors.review_queue`). A proxy: no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"


class AuditAction(models.TextChoices):
    CORRECT = "correct", "Corrected"
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    RERUN = "rerun", "Re-run queued"
    IMPORT = "import", "Label imported"
    FLAG = "flag", "Flagged for review"
    RESTORE = "restore", "Restored from the audit trail"
    UNDO = "undo", "Rejection undone"


class AnalysisAuditEntry(models.Model):
    """Who did what to an analysis, and when. Append-only.

    Outlives the analysis and the user: the image hash, material name and user name are copied,
    so the trail still reads after a catalog or an account is deleted.
    """

    analysis = models.ForeignKey(
        VisualAnalysis,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    image_sha256 = models.CharField(max_length=64, db_index=True)
    material_name = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    # {"field.path": [old, new]} for every field the action changed.
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["analysis", "created_at"], name="audit_analysis_created")]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{self.get_action_display()} by {who} ({self.created_at:%Y-%m-%d %H:%M})"


class AnalysisFlag(models.Model):
    """A user's report that an analysis looks wrong; it stays open until a curator acts."""

    analysis = models.ForeignKey(VisualAnalysis, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=300)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["analysis"],
                condition=models.Q(resolved_at__isnull=True),
                name="flag_open_by_analysis",
            )
        ]

    def __str__(self) -> str:
        return f"flag on analysis {self.analysis_id}: {self.reason}"


# --- the task worker (analysis.worker) ----------------------------------------------------
class WorkerHeartbeat(models.Model):
    """The last sign of life of a task worker (one row per host and cluster): written when a
    task starts and by an every-minute schedule. `/readyz` fails when the newest is too old,
    since then nothing consumes the queue."""

    worker = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class TaskRun(models.Model):
    """Worker time of one background task (the compute side of the costs page): wall and CPU
    seconds in the worker process, whatever the task."""

    task = models.CharField(max_length=100)
    started_at = models.DateTimeField(db_index=True)
    wall_seconds = models.FloatField()
    cpu_seconds = models.FloatField()
    success = models.BooleanField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.task}: {self.wall_seconds:.2f} s"


# --- the embedding-model registry (analysis.registry) ------------------------------------
from analysis.embedding_models import EmbeddingModel  # noqa: E402, F401 - a model of this app
