"""Bearer-token authentication of the REST API and the event stream.

Two roles: an *operator* token may do everything, a *read* token may only read (any ``POST``
with it is refused with 403). Tokens come from the environment — ``TRADEKIT_API_TOKEN``
(operator) and ``TRADEKIT_API_READ_TOKEN`` (read-only). When neither is set, ``tradekit serve``
generates an operator token, prints it once and keeps it in a file only the user can read
(mode ``0600``) so the CLI (``tradekit status`` / ``kill``) can find it again.

Tokens are compared with :func:`hmac.compare_digest` (constant time), against every known token,
so the time taken does not tell which token nearly matched.

Examples
--------
>>> tokens = Tokens(operator="op-secret", read="viewer")
>>> tokens.role_of("Bearer op-secret")
'operator'
>>> tokens.role_of("Bearer viewer")
'read'
>>> tokens.role_of("Bearer nope") is None
True
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tradekit.errors import ConfigError

__all__ = [
    "OPERATOR_ENV",
    "READ_ENV",
    "TOKEN_FILE_NAME",
    "Role",
    "Tokens",
    "bearer",
    "load_token_file",
    "resolve_tokens",
]

OPERATOR_ENV = "TRADEKIT_API_TOKEN"
READ_ENV = "TRADEKIT_API_READ_TOKEN"
#: File (next to the database, under ``data/``) holding a generated operator token.
TOKEN_FILE_NAME = "api_token"

Role = Literal["operator", "read"]

#: Shortest token accepted from the environment: a guessable token is no authentication.
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Tokens:
    """The tokens a server accepts; ``None`` means that role has no token (nobody has it)."""

    operator: str | None = None
    read: str | None = None
    #: Where a generated operator token was stored (``None`` when it came from the environment).
    generated_file: Path | None = None

    def __post_init__(self) -> None:
        if self.operator is None and self.read is None:
            raise ConfigError("an API server needs at least one token")
        if self.operator is not None and self.operator == self.read:
            raise ConfigError("the operator and the read-only token must differ")

    def role_of_token(self, token: str | None) -> Role | None:
        """The role of a bare token, or ``None`` when it is not one of ours."""
        if not token:
            return None
        given = token.encode("utf-8", "surrogatepass")
        # compare against both, always, so timing does not reveal which one nearly matched
        op = self.operator is not None and hmac.compare_digest(given, self.operator.encode())
        rd = self.read is not None and hmac.compare_digest(given, self.read.encode())
        if op:
            return "operator"
        if rd:
            return "read"
        return None

    def role_of(self, authorization: str | None) -> Role | None:
        """The role of an ``Authorization`` header value (``Bearer <token>``)."""
        return self.role_of_token(bearer(authorization))


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, ``None`` for anything else."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


def _env_token(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if len(value) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{name} must be at least {MIN_TOKEN_LENGTH} characters long")
    return value


def load_token_file(path: str | os.PathLike[str]) -> str | None:
    """The token stored in ``path`` by :func:`resolve_tokens`, or ``None`` if there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return None
    return text or None


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 from the start (never world-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def resolve_tokens(
    token_file: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> tuple[Tokens, bool]:
    """The server's tokens from the environment, else a generated operator token.

    Parameters
    ----------
    token_file:
        Where a generated operator token is written (mode 0600), e.g. ``data/api_token``.
    env:
        The environment (default ``os.environ``).

    Returns
    -------
    tuple[Tokens, bool]
        The tokens, and whether the operator token was generated now (print it once).

    Raises
    ------
    ConfigError
        A token in the environment is too short, or both tokens are equal.
    """
    env = os.environ if env is None else env
    operator, read = _env_token(env, OPERATOR_ENV), _env_token(env, READ_ENV)
    if operator is not None or read is not None:
        return Tokens(operator=operator, read=read), False
    path = Path(token_file)
    token = secrets.token_urlsafe(32)
    _write_private(path, token + "\n")
    return Tokens(operator=token, generated_file=path), True
