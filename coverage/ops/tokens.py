"""Tokens of the HTTP feed: a tokens file of SHA-256 hashes, and a constant-time check.

``tokens add NAME`` makes a random token (256 bits), prints it once and keeps only its
SHA-256 in the file (CSV ``name,sha256,created_at``, mode 0600), so a copy of the file lets
nobody post positions. A presented token is hashed and compared with every stored hash by
:func:`hmac.compare_digest`, in time that does not depend on where they differ.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "feed-tokens.csv"
    ...     token = add_token(path, "traccar-server")   # 32 random bytes: 43 url-safe chars
    ...     check = TokenCheck.from_file(path)
    ...     print(len(token), check.match(token), check.match("x" * 43), token in path.read_text(),
    ...           oct(path.stat().st_mode & 0o777))
    43 traccar-server None False 0o600
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from coverage.errors import DataError, problems_message
from coverage.ops.devices import read_text_file, replace_file

COLUMNS = ("name", "sha256", "created_at")
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_HEX = re.compile(r"[0-9a-f]{64}")
#: Shortest token accepted from ``--token`` or ``SECCOV_FEED_TOKEN``.
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class TokenRecord:
    """One token in the file: its name, the SHA-256 of the token, and when it was made."""

    name: str
    sha256: str
    created_at: str


def digest(token: str) -> bytes:
    """SHA-256 of a token's UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def read_tokens(path: str | Path) -> list[TokenRecord]:
    """Return the tokens in a tokens file; raises DataError naming each bad row."""
    p = Path(path)
    text = read_text_file(p, missing_hint="; make one with: python -m coverage tokens add")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or [h.strip() for h in rows[0]] != list(COLUMNS):
        msg = problems_message(p.name, [f"line 1: the header must be {','.join(COLUMNS)}"])
        raise DataError(msg)
    records: list[TokenRecord] = []
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(f"row {number}: has {len(row)} fields, not {len(COLUMNS)}")
            continue
        name, sha, created = (c.strip() for c in row)
        if not _NAME.fullmatch(name):
            problems.append(f"row {number}: name '{name}' must be 1-64 letters, digits, . _ @ -")
        elif not _HEX.fullmatch(sha):
            problems.append(f"row {number}: sha256 is not 64 lower-case hex digits")
        elif any(r.name == name for r in records):
            problems.append(f"row {number}: name '{name}' appears again")
        else:
            records.append(TokenRecord(name, sha, created))
    if problems:
        raise DataError(problems_message(p.name, problems))
    return records


def _write(path: Path, records: list[TokenRecord]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows((r.name, r.sha256, r.created_at) for r in records)
    replace_file(path, buf.getvalue(), mode=0o600)


def add_token(path: str | Path, name: str) -> str:
    """Make a new random token called ``name``, store its hash in ``path``; return the token.

    The file is created (mode 0600) when missing. The token itself is not stored anywhere:
    show it once and give it to the device or the Traccar server.
    """
    p = Path(path)
    if not _NAME.fullmatch(name):
        msg = f"token name '{name}' must be 1-64 letters, digits, . _ @ -"
        raise DataError(msg)
    records = read_tokens(p) if p.exists() else []
    if any(r.name == name for r in records):
        msg = f"{p.name}: a token called '{name}' exists; revoke it first or pick another name"
        raise DataError(msg)
    token = secrets.token_urlsafe(32)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    _write(p, [*records, TokenRecord(name, digest(token).hex(), created)])
    return token


def revoke_token(path: str | Path, name: str) -> list[TokenRecord]:
    """Remove the token called ``name``; return the tokens left."""
    p = Path(path)
    records = read_tokens(p)
    left = [r for r in records if r.name != name]
    if len(left) == len(records):
        msg = f"{p.name}: no token called '{name}'; see: python -m coverage tokens list"
        raise DataError(msg)
    _write(p, left)
    return left


class TokenCheck:
    """Which named token, if any, a presented token is; compared in constant time."""

    def __init__(self, named_digests: list[tuple[str, bytes]]) -> None:
        self._digests = list(named_digests)

    @classmethod
    def single(cls, token: str, name: str = "--token") -> TokenCheck:
        """One shared token (``--token`` or ``SECCOV_FEED_TOKEN``)."""
        if len(token) < MIN_TOKEN_CHARS:
            msg = (f"{name}: a token needs at least {MIN_TOKEN_CHARS} characters; make one "
                   "with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
            raise DataError(msg)
        return cls([(name, digest(token))])

    @classmethod
    def from_file(cls, path: str | Path) -> TokenCheck:
        """The tokens of a tokens file."""
        return cls([(r.name, bytes.fromhex(r.sha256)) for r in read_tokens(path)])

    def __len__(self) -> int:
        return len(self._digests)

    def match(self, presented: str | None) -> str | None:
        """The name of the token ``presented`` is, or None (also for None or empty).

        Every stored hash is compared, whether or not an earlier one matched.
        """
        if not presented:
            return None
        got = digest(presented)
        found: str | None = None
        for name, want in self._digests:
            if hmac.compare_digest(got, want):
                found = name
        return found


__all__ = ["COLUMNS", "MIN_TOKEN_CHARS", "TokenCheck", "TokenRecord", "add_token", "digest",
           "read_tokens", "revoke_token"]
