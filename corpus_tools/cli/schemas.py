"""`corpus schemas`: regenerate schemas/ from corpus.toml, or check it for drift."""

from __future__ import annotations

from typing import Annotated

import typer

from corpus_tools.cli._common import ConfigOpt, JsonOpt, app, console, get_config, print_json, shown
from corpus_tools.errors import EXIT_DATA


@app.command("schemas")
def schemas_cmd(
    config: ConfigOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if schemas/ drifted.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Generate schemas/ (labeling config + JSON Schemas) from the scheme in corpus.toml.

    Example: corpus schemas --check
    """
    from corpus_tools import schemas as lib

    cfg = get_config(config)
    if check:
        drift = lib.check(cfg)
        if json_out:
            print_json({"in_sync": not drift, "drift": [d.__dict__ for d in drift]})
        elif drift:
            for d in drift:
                console.print(f"schemas/{d.file}: {d.problem}", highlight=False)
            console.print("Run `corpus schemas` and commit the result.", highlight=False)
        else:
            console.print("schemas/ is in sync with corpus.toml", highlight=False)
        if drift:
            raise typer.Exit(EXIT_DATA)
        return
    written = lib.write(cfg)
    if json_out:
        print_json({"written": [str(p.relative_to(cfg.paths.root)) for p in written]})
    else:
        for p in written:
            console.print(f"wrote {shown(p)}", highlight=False, soft_wrap=True)
        if not written:
            console.print("schemas/ already up to date", highlight=False)
