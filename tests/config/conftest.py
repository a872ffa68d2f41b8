"""The local S3 server of the object-storage tests: moto in server mode, a process of its own
spoken to over HTTP, as Swatch would speak to S3, R2 or MinIO."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from config.storage import media_storage

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
BUCKET = "swatch-media"
READY_SECONDS = 120  # a deadline for the server to answer, never a pause


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - moto's own server script
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            requests.get(endpoint, timeout=5)
            break
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield endpoint
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def s3_env(monkeypatch, s3_endpoint):
    for name, value in {
        "SWATCH_MEDIA_STORAGE": "s3", "SWATCH_S3_BUCKET": BUCKET,
        "SWATCH_S3_ENDPOINT_URL": s3_endpoint, "SWATCH_S3_REGION": "us-east-1",
        "SWATCH_S3_ACCESS_KEY_ID": "test-key", "SWATCH_S3_SECRET_ACCESS_KEY": "test-secret",
        "SWATCH_S3_PREFIX": "media/",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test-key", aws_secret_access_key="test-secret",
    )  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def storage_from_env(settings) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": media_storage()}


def bucket_keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
