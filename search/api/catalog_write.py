"""The catalog write API for suppliers' systems (scope `catalog:write`): create or upsert by
SKU, update, delete, bulk. Images as a multipart file or a URL (downloaded through
`analysis.http.download`); a new or changed image is queued for analysis and embedding."""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.models import ApiKey
from access.selectors import granted_private_catalogs_for
from analysis.catalog_jobs import catalog_job_enqueue
from analysis.http.download import catalog_fetch
from analysis.services import analysis_queue_for_images
from config.errors.envelope import error_body
from materials.errors import MaterialError
from materials.models import Catalog, CatalogWriteJob, IdempotentRequest, Material
from materials.writes import FIELDS, material_delete, material_update, material_upsert
from search.api.parsers import BoundedJSONParser
from search.api.schema import COMMON_ERRORS, ERROR_ENVELOPE, error_responses
from search.api.serializers import MaterialSerializer
from search.api.write_serializers import BulkWriteSerializer, MaterialWriteSerializer

PARSERS = [BoundedJSONParser, MultiPartParser, FormParser]
ERROR_FIELDS = {"duplicate_sku": "sku", "name_required": "name", "image_required": "image"}
ERRORS = {
    **error_responses(400, 404, 413, *COMMON_ERRORS),
    409: OpenApiResponse(ERROR_ENVELOPE, description="Codes: duplicate_sku, duplicate_image."),
    422: OpenApiResponse(ERROR_ENVELOPE, description="Codes: idempotency_key_reused."),
}
JOB = inline_serializer(
    name="CatalogWriteJob",
    fields={
        "job_id": serializers.IntegerField(),
        "catalog_id": serializers.IntegerField(),
        "status": serializers.CharField(help_text="queued, running or done"),
        "items": serializers.IntegerField(),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


def writable_catalog(request: Request, catalog_id: int) -> Catalog:
    """The catalog, if this caller may write it; 404 otherwise (a private catalog the caller
    was not granted is not there for them)."""
    catalog = Catalog.objects.filter(pk=catalog_id).first()
    if catalog is None:
        raise exceptions.NotFound(f"No catalog with id {catalog_id}.")
    privacy = getattr(catalog, "privacy", None)  # access.PrivateCatalog, when private
    if privacy is None:
        return catalog
    key, user = request.auth, request.user
    if isinstance(key, ApiKey):
        granted = key.catalogs.filter(pk=catalog.pk).exists()
    else:
        granted = user.is_staff or privacy.members.filter(pk=user.pk).exists()
    if not granted:
        raise exceptions.NotFound(f"No catalog with id {catalog_id}.")
    return catalog


def _material_error(exc: MaterialError) -> Response:
    status = 409 if exc.code.startswith("duplicate") else 400
    return Response(error_body(exc.code, exc.message, ERROR_FIELDS.get(exc.code)), status=status)


def _upload(validated: dict) -> bytes | None:
    return validated["image"].read() if "image" in validated else None


def _image(validated: dict, upload: bytes | None) -> tuple[bytes | None, str, str]:
    """(bytes, source URL, file name) of the request's image, if it has one: the upload, or
    the image at `image_url`, downloaded."""
    if upload is not None:
        return upload, "", validated["image"].name or ""
    if "image_url" in validated:
        return catalog_fetch(validated["image_url"]), validated["image_url"], ""
    return None, "", ""


def _answer(write, status: int, request: Request) -> Response:
    # A private catalog's pictures at signed URLs (the writer was granted it: else 404).
    context = {"private_catalogs": set(granted_private_catalogs_for(request._request))}
    body = {**MaterialSerializer(write.material, context=context).data, "outcome": write.outcome}
    return Response(body, status=status)


def _caller(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.prefix}"  # the key's id is its long hashed name
    return f"user:{request.user.pk}"


def _request_sha256(request: Request, validated: dict, upload: bytes | None) -> str:
    fields = {k: v for k, v in validated.items() if k != "image"}
    digest = hashlib.sha256(json.dumps([request.path, fields], sort_keys=True).encode())
    digest.update(hashlib.sha256(upload or b"").digest())
    return digest.hexdigest()


class CatalogMaterialsView(APIView):
    parser_classes = PARSERS
    required_scope = "catalog:write"

    @extend_schema(
        request={"application/json": MaterialWriteSerializer,
                 "multipart/form-data": MaterialWriteSerializer},
        responses={201: MaterialSerializer, 200: MaterialSerializer, **ERRORS},
        summary="Create a material, or update the one with this SKU (Idempotency-Key honoured)",
    )  # fmt: skip
    def post(self, request: Request, catalog_id: int) -> Response:
        catalog = writable_catalog(request, catalog_id)
        serializer = MaterialWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = _upload(serializer.validated_data)
        key = request.headers.get("Idempotency-Key", "").strip()[:200]
        digest = _request_sha256(request, serializer.validated_data, upload)
        if key:
            done = IdempotentRequest.objects.filter(caller=_caller(request), key=key).first()
            if done is not None:
                return _replayed(done, digest)
        data, url, filename = _image(serializer.validated_data, upload)
        fields = {k: v for k, v in serializer.validated_data.items() if k in FIELDS}
        try:
            with transaction.atomic():
                write = material_upsert(
                    catalog=catalog, fields=fields, data=data, source_url=url, filename=filename
                )
                answer = _answer(write, 201 if write.outcome == "created" else 200, request)
                if key:
                    IdempotentRequest.objects.create(
                        caller=_caller(request), key=key, request_sha256=digest,
                        status=answer.status_code, body=answer.data,
                    )  # fmt: skip
                analysis_queue_for_images(image_ids=write.new_image_ids)
        except MaterialError as exc:
            return _material_error(exc)
        except IntegrityError:  # the same key sent twice at once: the other one stands
            done = IdempotentRequest.objects.filter(caller=_caller(request), key=key).first()
            if done is None:
                raise
            return _replayed(done, digest)
        return answer


def _replayed(done: IdempotentRequest, digest: str) -> Response:
    if done.request_sha256 != digest:
        return Response(
            error_body(
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
                "Idempotency-Key",
            ),
            status=422,
        )
    return Response(done.body, status=done.status, headers={"Idempotent-Replayed": "true"})


class CatalogMaterialView(APIView):
    parser_classes = PARSERS
    required_scope = "catalog:write"

    def _material(self, request: Request, catalog_id: int, material_id: int) -> Material:
        catalog = writable_catalog(request, catalog_id)
        material = Material.objects.filter(catalog=catalog, pk=material_id).first()
        if material is None:
            raise exceptions.NotFound(f"No material {material_id} in catalog {catalog_id}.")
        return material

    @extend_schema(
        request={"application/json": MaterialWriteSerializer,
                 "multipart/form-data": MaterialWriteSerializer},
        responses={200: MaterialSerializer, **ERRORS},
        summary="Change a material's fields or image (a new image is analysed again)",
    )  # fmt: skip
    def patch(self, request: Request, catalog_id: int, material_id: int) -> Response:
        material = self._material(request, catalog_id, material_id)
        serializer = MaterialWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, url, _ = _image(serializer.validated_data, _upload(serializer.validated_data))
        fields = {k: v for k, v in serializer.validated_data.items() if k in FIELDS}
        try:
            with transaction.atomic():
                write = material_update(material=material, fields=fields, data=data, source_url=url)
                analysis_queue_for_images(image_ids=write.new_image_ids)
        except MaterialError as exc:
            return _material_error(exc)
        return _answer(write, 200, request)

    @extend_schema(
        request=None, responses={204: None, **error_responses(404, *COMMON_ERRORS)},
        summary="Delete a material, its images, vectors and files",
    )  # fmt: skip
    def delete(self, request: Request, catalog_id: int, material_id: int) -> Response:
        material_delete(material=self._material(request, catalog_id, material_id))
        return Response(status=204)


def _job_body(job: CatalogWriteJob) -> dict:
    return {"job_id": job.pk, "catalog_id": job.catalog_id, "status": job.status,
            "items": len(job.items), "results": job.results}  # fmt: skip


class CatalogBulkView(APIView):
    parser_classes = [BoundedJSONParser]
    required_scope = "catalog:write"

    @extend_schema(
        request=BulkWriteSerializer, responses={202: JOB, **ERRORS},
        summary="Upsert up to 500 materials by SKU in the background; answered with a job id",
    )  # fmt: skip
    def post(self, request: Request, catalog_id: int) -> Response:
        catalog = writable_catalog(request, catalog_id)
        serializer = BulkWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            job = CatalogWriteJob.objects.create(
                catalog=catalog, items=serializer.validated_data["items"]
            )
            catalog_job_enqueue(job=job)
        return Response(_job_body(job), status=202)


class CatalogJobView(APIView):
    required_scope = "catalog:write"

    @extend_schema(
        responses={200: JOB, **error_responses(404, *COMMON_ERRORS)},
        summary="A bulk write's status and per-item results",
    )  # fmt: skip
    def get(self, request: Request, job_id: int) -> Response:
        job = CatalogWriteJob.objects.filter(pk=job_id).first()
        if job is None:
            raise exceptions.NotFound(f"No job {job_id}.")
        writable_catalog(request, job.catalog_id)
        return Response(_job_body(job))
