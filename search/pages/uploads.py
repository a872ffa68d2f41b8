"""Uploads held in memory only. Django spills uploads above FILE_UPLOAD_MAX_MEMORY_SIZE to a
temporary file; a query image must never touch the disk, so the search page reads files with
this handler alone: past the intake cap the file is dropped (and reported as too large), not
spilled."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class MemoryOnlyUploadHandler(FileUploadHandler):
    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = settings.SWATCH["MAX_UPLOAD_BYTES"]
        self.too_large: set[str] = set()

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0
        self.dropped = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            if not self.dropped:
                self.dropped = True
                self.buffer = io.BytesIO()  # let go of what was held
            return None
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.dropped:
            self.too_large.add(self.field_name)
            return None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
