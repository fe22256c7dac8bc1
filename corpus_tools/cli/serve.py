"""`corpus serve`: a Label Studio ML backend on 127.0.0.1, suggesting from a trained model."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from corpus_tools.cli._common import ConfigOpt, app, err_console, get_config
from corpus_tools.constants import SERVE_HOST, SERVE_PORT


@app.command("serve")
def serve_cmd(
    config: ConfigOpt = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Bundle to serve: 'latest', a version under build/models, or a folder.",
        ),
    ] = "latest",
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless --allow-remote).")
    ] = SERVE_HOST,
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on (0: any free port).", min=0)
    ] = SERVE_PORT,
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold",
            help="Gold to retrain on and project from: build/gold.jsonl (default) or dist/VERSION.",
        ),
    ] = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain/--no-retrain",
            help="Retrain in the background when annotations arrive through the webhook.",
        ),
    ] = True,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Listen on a non-loopback address. The protocol has no authentication: "
            "anyone who reaches the port can read suggestions and send training data.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log warnings and errors only.")
    ] = False,
) -> None:
    """Serve a trained model to Label Studio as an ML backend (health, setup, predict, webhook).

    Connect it in the project's Settings → Model, or with POST /api/ml {"url": URL, "project": ID}.
    Label Studio refuses loopback backends and webhooks (its SSRF guard): start it with
    scripts/start-label-studio.sh, which allows 127.0.0.1 only and keeps every other private
    network blocked (docs/models.md: "Connecting it"). Ctrl-C stops it.

    Example: corpus serve --model latest --port 9090
    """
    from corpus_tools import serve as lib

    cfg = get_config(config)
    running = lib.start(
        cfg,
        model=model,
        gold=gold,
        retrain=retrain,
        host=host,
        port=port,
        allow_remote=allow_remote,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(lib.__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    out = err_console
    out.print(f"serving {running.backend.model_version} at {running.url}", highlight=False)
    out.print(
        f"connect it: Label Studio → project → Settings → Model → Connect Model, URL {running.url}"
        f'\n  or: POST /api/ml/ {{"url": "{running.url}", "project": PROJECT_ID}}'
        f"\n  retraining on new annotations: {'on' if retrain else 'off'}; Ctrl-C stops.",
        highlight=False,
        soft_wrap=True,
    )

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        running.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.shutdown()
        signal.signal(signal.SIGTERM, previous)
        logger.removeHandler(handler)
    out.print("stopped", highlight=False)
