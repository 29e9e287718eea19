"""``tradekit report``: a curated notebook executed with papermill, rendered as one HTML file.

``tradekit report backtest -p symbol=AAPL -p start=2005-01-01 -o report.html`` runs
``notebooks/04_backtest_report.ipynb`` with the given parameters (typed by the defaults of the
notebook's ``parameters`` cell: ``-p mc_paths=500`` is an int, ``-p vix=20`` a float), then
renders the executed notebook with nbconvert into a self-contained HTML file: plots embedded
(BokehJS inline), no external scripts, code cells hidden unless ``--show-code``. The notebook
records its run in ``backtest_runs`` of its ``db`` parameter; the HTML names that run id in
its title, in a ``<meta name="tradekit-run-id">`` tag and in the visible run line, so a report
can be traced back to the run's rows (``RunData.from_store(store, run_id)``).
``tradekit report ab`` does the same with ``notebooks/06_ab_study.ipynb``.
"""

from __future__ import annotations

import argparse
import ast
import html
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tradekit.errors import TradekitError

__all__ = ["REPORTS", "ReportError", "cmd_report", "parse_parameters", "register"]

#: report name -> notebook file in the notebooks folder
REPORTS: dict[str, str] = {
    "backtest": "04_backtest_report.ipynb",
    "ab": "06_ab_study.ipynb",
}

#: mime type of the display the report notebooks emit with their run id
RUN_MIME = "application/vnd.tradekit.run+json"

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I)


class ReportError(TradekitError):
    """A report cannot be made: unknown or mistyped parameter, missing notebook, failed cell."""


def notebooks_dir() -> Path:
    """The curated notebooks: ``$TRADEKIT_NOTEBOOKS``, else ``notebooks/`` of the checkout."""
    env = os.environ.get("TRADEKIT_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "notebooks"


def _typed(name: str, text: str, default: Any) -> Any:
    """``text`` as the type of the parameter's default (bool, int, float, str, list...)."""
    kind = type(default)
    try:
        if isinstance(default, bool):
            low = text.strip().lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, str) or default is None:
            return text
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ReportError(
            f"parameter {name}={text!r}: expected {kind.__name__} like {default!r}"
        ) from exc
    if not isinstance(value, kind):
        raise ReportError(f"parameter {name}={text!r}: expected {kind.__name__} like {default!r}")
    return value


def parse_parameters(notebook: Path, pairs: list[str]) -> dict[str, Any]:
    """``["name=value", ...]`` checked against the notebook's ``parameters`` cell and typed.

    Raises
    ------
    ReportError
        A pair without ``=``, a name the notebook does not have, or a value of the wrong type.
    """
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    defaults: dict[str, Any] = {}
    for name, info in declared.items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            defaults[name] = None  # not a literal: passed as text
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ReportError(f"-p expects name=value, got {pair!r}")
        if name not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise ReportError(f"{notebook.name} has no parameter {name!r}; its parameters: {known}")
        out[name] = _typed(name, text, defaults[name])
    return out


def _run_id(nb: Any) -> str | None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RUN_MIME in data:
                return str(data[RUN_MIME]["run_id"])
    return None


def render_html(nb: Any, *, show_code: bool, title: str, run_id: str | None) -> str:
    """The executed notebook as one self-contained HTML page (see the module docstring)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True, exclude_input=not show_code,
                            exclude_input_prompt=not show_code, exclude_output_prompt=True)  # fmt: skip
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # MathJax / require.js from a CDN: the reports need neither (no LaTeX, no ipywidgets)
    body = _EXTERNAL_SCRIPT.sub("", body)
    if run_id is not None:
        meta = f'<meta name="tradekit-run-id" content="{html.escape(run_id)}">'
        body = body.replace("<head>", f"<head>\n{meta}", 1)
    return body


def _ipc_kernel_manager(folder: str) -> type[Any]:
    """A kernel manager whose kernel talks over unix sockets in ``folder`` (``transport="ipc"``):
    no TCP port of this machine is opened for the run, and the kernel has no reason to warn on
    the terminal that its messages travel unencrypted over TCP. Each run has its own folder, so
    reports run side by side never pick the same socket names."""
    from jupyter_client.manager import KernelManager

    class _IPCKernelManager(KernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(folder, "kernel"))
            super().__init__(**kwargs)

    return _IPCKernelManager


def cmd_report(args: argparse.Namespace) -> int:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = notebooks_dir() / REPORTS[args.report]
    if not notebook.exists():
        raise ReportError(f"report {args.report!r} needs {notebook}, which does not exist")
    params = parse_parameters(notebook, args.param or [])
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    executed = out.with_suffix(".ipynb") if args.keep_notebook else None
    target = str(executed) if executed is not None else "-"
    print(f"running {notebook.name} with {params or 'its defaults'}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="tk-kernel-") as sockets:
            ipc = (
                {"kernel_manager_class": _ipc_kernel_manager(sockets)} if os.name == "posix" else {}
            )
            nb = papermill.execute_notebook(
                str(notebook), target if target != "-" else None, parameters=params,
                kernel_name=args.kernel, progress_bar=False, cwd=os.getcwd(), **ipc,
            )  # fmt: skip
    except PapermillExecutionError as exc:
        raise ReportError(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: "
                          f"{exc.evalue}") from None  # fmt: skip
    nb = nbformat.from_dict(nb)
    run_id = _run_id(nb)
    title = f"tradekit {args.report} report" + (f" - run {run_id}" if run_id else "")
    out.write_text(render_html(nb, show_code=args.show_code, title=title, run_id=run_id))
    print(f"wrote {out}" + (f" (run {run_id})" if run_id else ""))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rp = sub.add_parser(
        "report", help="run a curated notebook with papermill and render it as HTML"
    )
    rp.add_argument("report", choices=sorted(REPORTS),
                    help="backtest (notebooks/04_backtest_report.ipynb) or ab (06_ab_study.ipynb)")  # fmt: skip
    rp.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                    help="a parameter of the notebook (repeatable), typed like its default")  # fmt: skip
    rp.add_argument("-o", "--output", required=True, metavar="FILE.html", help="the HTML report")
    rp.add_argument("--show-code", action="store_true", help="keep the code cells in the HTML")
    rp.add_argument("--keep-notebook", action="store_true",
                    help="also keep the executed notebook beside the HTML (FILE.ipynb)")  # fmt: skip
    rp.add_argument("--kernel", default="python3", help="Jupyter kernel (default: python3)")
    rp.set_defaults(func=cmd_report)
