"""One window per case: a case already open in a memoview window is focused, not opened twice.

Each window that holds a case listens on a local socket (``QLocalServer``)
whose name is derived from the case file's resolved path and the user. A
second ``memoview gui CASE`` (a double-click on the file, the launcher, a
terminal) first connects to that name: if a window answers, it asks it to
come to the front and stops; otherwise it opens the case and listens in its
turn. A socket left behind by a crashed process does not answer and is
removed. The same check runs when a window opens a case from its menus.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_TIMEOUT_MS = 500
MESSAGE = b"activate\n"
# Servers of this process by name: a window of this process cannot answer a blocking socket call made from
# the same thread, so a second window here asks the first one directly.
_LOCAL: dict[str, "CaseInstanceServer"] = {}


def _local_owner(name: str) -> Optional["CaseInstanceServer"]:
    owner = _LOCAL.get(name)
    if owner is None:
        return None
    try:
        alive = owner._server is not None and owner._server.isListening()
    except RuntimeError:  # its window (and the server with it) was deleted
        alive = False
    if not alive:
        _LOCAL.pop(name, None)
        return None
    return owner


def server_name(case_path: Path) -> str:
    """A short name per (user, case file): local socket names are limited in length on some systems."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (some containers): one namespace for all
        user = "user"
    key = f"{user}\0{Path(case_path).expanduser().resolve()}".encode("utf-8", "surrogateescape")
    return "memoview-" + hashlib.sha256(key).hexdigest()[:24]


def activate_existing(case_path: Path) -> bool:
    """Ask a window that already has this case open to come to the front; True if one answered."""
    owner = _local_owner(server_name(case_path))
    if owner is not None:
        owner.activation_requested.emit()
        return True
    socket = QLocalSocket()
    socket.connectToServer(server_name(case_path))
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(MESSAGE)
    socket.flush()
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    answered = socket.waitForReadyRead(CONNECT_TIMEOUT_MS) and bytes(socket.readAll().data()).startswith(b"ok")
    socket.disconnectFromServer()
    return bool(answered)


class CaseInstanceServer(QObject):
    """Listens for 'bring this case to the front' requests while its window holds the case."""

    activation_requested = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._server: Optional[QLocalServer] = None
        self.case_path: Optional[Path] = None

    def claim(self, case_path: Path) -> bool:
        """Listen for this case; False if another live window already listens for it (it was asked to
        come to the front). The case this window held stays claimed until the new claim succeeds."""
        path = Path(case_path).expanduser().resolve()
        if self._server is not None and self.case_path == path:
            return True
        if activate_existing(path):  # a live window has it: it comes to the front instead
            return False
        name = server_name(path)
        server = QLocalServer(self)
        # Only this user may connect. (With a socket option Qt creates the socket aside and renames it into
        # place, so listen() does not fail on a live name: hence the question to the owner first.)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(name):
            QLocalServer.removeServer(name)  # stale socket of a process that is gone
            if not server.listen(name):
                server.deleteLater()
                return True  # cannot listen (exotic platform): open anyway rather than refuse the user
        server.newConnection.connect(self._on_connection)
        self.release()
        self._server, self.case_path = server, path
        _LOCAL[name] = self
        return True

    def holds(self, case_path: Path) -> bool:
        return self._server is not None and self.case_path == Path(case_path).expanduser().resolve()

    def release(self) -> None:
        if self.case_path is not None and _LOCAL.get(server_name(self.case_path)) is self:
            _LOCAL.pop(server_name(self.case_path), None)
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
        self._server, self.case_path = None, None

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            conn = self._server.nextPendingConnection()
            conn.readyRead.connect(lambda c=conn: self._on_message(c))
            conn.disconnected.connect(conn.deleteLater)

    def _on_message(self, conn: QLocalSocket) -> None:
        if bytes(conn.readAll().data()).startswith(MESSAGE.strip()):
            conn.write(b"ok\n")
            conn.flush()
            self.activation_requested.emit()
