"""``tradekit status`` / ``kill`` through a running ``tradekit serve`` (when one is up).

Each helper returns ``False`` when no server owns the database, or when it cannot be reached
or refuses, so the command falls back to reading the database / writing the kill file.
"""

from __future__ import annotations

import os

__all__ = ["kill_via_server", "status_via_server"]


def status_via_server(db: str | os.PathLike[str]) -> bool:
    """Print the live status from the server owning ``db``; False when there is none."""
    from tradekit.api.client import ApiClientError, connect

    client = connect(db)
    if client is None:
        return False
    try:
        st = client.status()
    except (OSError, ApiClientError, ValueError) as exc:
        print(f"server at {client.url} did not answer the status ({exc}); reading the database")
        return False
    print(f"server {client.url} (pid {st.get('pid')}): trader {st['state']} - "
          f"{st.get('data_label', '')}")  # fmt: skip
    for key in ("mode", "symbols", "config_version", "run_id", "bars_seen", "equity", "day_pnl",
                "open_positions", "trades_today", "day_loss", "halt_reason"):  # fmt: skip
        print(f"{key:>16}: {st.get(key)}")
    return True


def kill_via_server(db: str | os.PathLike[str], reason: str) -> bool:
    """Trip the kill switch through the server owning ``db``; False when that did not work."""
    from tradekit.api.client import ApiClientError, connect

    client = connect(db)
    if client is None:
        return False
    try:
        out = client.kill(reason)
    except (OSError, ApiClientError, ValueError) as exc:
        print(f"server at {client.url} refused the kill ({exc}); writing the kill file instead")
        return False
    state = out["status"]["state"]
    print(f"kill switch tripped via {client.url}: trader {state}"
          f"{' (it already was)' if out.get('already_halted') else ''}")  # fmt: skip
    return True
