"""A real IMAP server for tests: Dovecot (Debian package ``dovecot-imapd``) started as a child
process on an unprivileged port, with a throwaway config, password file and Maildir under the
test's tmp_path. Mail is "delivered" by writing files into the Maildir, as an MTA would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_root(tmp_path: Path) -> Path:
    """Where a test's Dovecot keeps its files: under tmp_path, unless we run as root, where
    Dovecot's own unprivileged account must reach them and pytest's 0700 tree forbids that."""
    if os.getuid() != 0:
        return tmp_path / "dovecot"
    root = Path(tempfile.mkdtemp(prefix="relaydesk-dovecot-"))
    root.chmod(0o755)
    return root


def _login_users() -> tuple[str, str]:
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() != 0:
        return me, me
    wanted = ("dovenull", "dovecot")
    for name in wanted:
        pwd.getpwnam(name)  # created by the dovecot-core package; KeyError if missing
    return wanted


@dataclass
class Dovecot:
    root: Path
    port: int = field(default_factory=free_port)
    user: str = "support"
    password: str = "imap-test-password"
    process: subprocess.Popen[bytes] | None = None
    _counter: int = 0

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / self.user

    def _mail_dirs(self) -> list[Path]:
        dirs = [self.root / "mail", self.maildir]
        return dirs + [self.maildir / sub for sub in ("cur", "new", "tmp")]

    def _configure(self) -> Path:
        login_user, internal_user = _login_users()
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:  # Dovecot never accesses mail as root: use its own account for the Maildir
            account = pwd.getpwnam(internal_user)
            uid, gid = account.pw_uid, account.pw_gid
            for path in (self.root / "run", self.root / "home", *self._mail_dirs()):
                os.chown(path, uid, gid)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = relaydesk-test-{self.port}
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{self.root}/mail/%u
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        )
        return config

    async def start(self, timeout: float = 20.0) -> None:
        config = self._configure()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.root / "dovecot.log"
                extra = log.read_text() if log.exists() else ""
                raise RuntimeError(f"dovecot exited: {error}\n{extra}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("dovecot did not start listening") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def deliver(self, raw: bytes) -> Path:
        """Put a message into INBOX the way a local delivery agent does (tmp/ then new/)."""
        self._counter += 1
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.M{self._counter}P{os.getpid()}.relaydesk-test"
        temporary = self.maildir / "tmp" / name
        temporary.write_bytes(raw)
        target = self.maildir / "new" / name
        temporary.rename(target)
        return target
