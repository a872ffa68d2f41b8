"""Every file created in a directory while a test runs, seen by Linux inotify (ctypes, no
library): a file that lives a millisecond is still seen, which polling would miss."""

from __future__ import annotations

import ctypes
import os
import select
import struct
from pathlib import Path

IN_CREATE, IN_MOVED_TO, IN_NONBLOCK = 0x100, 0x80, 0o4000
_EVENT = struct.Struct("iIII")


class CreatedFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._fd = -1
        self.names: list[str] = []

    def __enter__(self) -> CreatedFiles:
        self._fd = self._libc.inotify_init1(IN_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        watch = self._libc.inotify_add_watch(
            self._fd, str(self.folder).encode(), IN_CREATE | IN_MOVED_TO
        )
        if watch < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {self.folder}")
        return self

    def read(self) -> list[str]:
        """The names created so far (the events are queued by the kernel until read)."""
        while select.select([self._fd], [], [], 0)[0]:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset < len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                self.names.append(raw.rstrip(b"\0").decode(errors="replace"))
                offset += _EVENT.size + length
        return self.names

    def __exit__(self, *exc: object) -> None:
        self.read()
        os.close(self._fd)
