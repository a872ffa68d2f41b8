"""Uploads held in memory only, never spilled to a temporary file: a query image must never
touch the disk. Django spills uploads above FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file;
this handler is the only one (`FILE_UPLOAD_HANDLERS`), and past the intake cap it lets go of
the file instead. `RequestSizeLimitMiddleware` (config/request_limits.py) refuses most
oversized requests from their Content-Length before this reads a byte; this catches the rest
(a chunked body, or a lying Content-Length).

By default an oversized file raises `UploadTooLarge` (a 413); the search page makes its own
handler with `raise_on_overflow=False`, which drops the file and reports it in `too_large`,
so the page can show its form again with the message.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class UploadTooLarge(Exception):
    def __init__(self, field: str | None, limit: int) -> None:
        super().__init__(f"The file is larger than the upload limit of {limit:,} bytes.")
        self.field = field
        self.limit = limit


class MemoryOnlyUploadHandler(FileUploadHandler):
    def __init__(self, request=None, *, raise_on_overflow: bool = True) -> None:
        super().__init__(request)
        self.limit = settings.SWATCH["MAX_UPLOAD_BYTES"]
        self.raise_on_overflow = raise_on_overflow
        self.too_large: set[str] = set()

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0
        self.dropped = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            if self.raise_on_overflow:
                self.buffer = io.BytesIO()
                raise UploadTooLarge(self.field_name, self.limit)
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
