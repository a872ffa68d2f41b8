"""The analysis options on the command line (`--depth`, `--no-vision`, `--no-clip`), declared
once for `import_catalog` (which hands them to the analysis app through its after-import hook:
materials never imports analysis) and `analyze_catalog`."""

from __future__ import annotations

DEPTHS = ("basic", "detailed", "comprehensive")  # analysis.depth.DEPTHS, which checks them


def analysis_arguments_add(parser) -> None:
    parser.add_argument(
        "--depth",
        choices=DEPTHS,
        default="detailed",
        help="How much the vision model is asked (and paid for): basic = material type and "
        "colours, detailed = the full description, comprehensive = more properties, every "
        "confidence and a longer summary.",
    )
    parser.add_argument(
        "--no-vision",
        action="store_true",
        help="No vision model: the offline analyser describes.",
    )
    parser.add_argument(
        "--no-clip", action="store_true", help="No CLIP: the offline embedders embed."
    )


def analysis_options_from(options: dict) -> dict:
    """The analysis options the command line asked for (`analysis.depth.AnalysisOptions`)."""
    return {
        "vision": not options["no_vision"],
        "clip": not options["no_clip"],
        "depth": options["depth"],
    }
