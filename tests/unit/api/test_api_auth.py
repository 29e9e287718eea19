"""Tokens: roles, bearer parsing, constant-time comparison, environment and generated tokens."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tradekit.api.auth import (
    OPERATOR_ENV,
    READ_ENV,
    Tokens,
    bearer,
    load_token_file,
    resolve_tokens,
)
from tradekit.errors import ConfigError

OP, RD = "o" * 24, "r" * 24


def test_roles_of_tokens() -> None:
    t = Tokens(operator=OP, read=RD)
    assert t.role_of(f"Bearer {OP}") == "operator"
    assert t.role_of(f"bearer   {RD} ") == "read"
    for bad in (None, "", "Bearer", f"Basic {OP}", f"Bearer {OP}x", OP, "Bearer é"):
        assert t.role_of(bad) is None, bad


def test_read_only_server_has_no_operator() -> None:
    t = Tokens(read=RD)
    assert t.role_of_token(RD) == "read" and t.role_of_token(OP) is None


@pytest.mark.parametrize(("op", "rd"), [(None, None), (OP, OP)])
def test_inconsistent_tokens_are_refused(op: str | None, rd: str | None) -> None:
    with pytest.raises(ConfigError):
        Tokens(operator=op, read=rd)


def test_bearer() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("Token abc") is None and bearer(None) is None


def test_environment_tokens_win_and_write_no_file(tmp_path: Path) -> None:
    f = tmp_path / "api_token"
    tokens, generated = resolve_tokens(f, {OPERATOR_ENV: OP, READ_ENV: RD})
    assert (tokens.operator, tokens.read, generated) == (OP, RD, False)
    assert not f.exists()
    tokens, _ = resolve_tokens(f, {READ_ENV: RD})
    assert tokens.operator is None and tokens.read == RD


def test_short_environment_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least"):
        resolve_tokens(tmp_path / "t", {OPERATOR_ENV: "short"})


def test_generated_token_is_stored_readable_only_by_the_user(tmp_path: Path) -> None:
    f = tmp_path / "data" / "api_token"
    tokens, generated = resolve_tokens(f, {})
    assert generated and tokens.operator and len(tokens.operator) >= 40
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert load_token_file(f) == tokens.operator
    again, _ = resolve_tokens(f, {})
    assert again.operator != tokens.operator  # a new server, a new secret
    assert load_token_file(tmp_path / "missing") is None
