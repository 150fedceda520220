"""`dataplatform predict`: score texts with the champion sentiment model from the registry.

Texts come from the command line or from a column of a CSV file; each gets the champion's
label and its probability of being positive, as a table or as CSV (`--output`).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd
from rich.markup import escape
from rich.table import Table

from dataplatform.cli import output
from dataplatform.cli.errors import EXIT_CODES, EXIT_OK, UsageError
from dataplatform.settings import PlatformSettings

PREDICTED_COLUMNS = ["predicted_label", "positive_probability"]


def add_predict_parser(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="score texts with the champion sentiment model",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to score")
    predict.add_argument("--file", type=Path, help="a CSV file with one text per row")
    predict.add_argument(
        "--column", default="text", help="the texts' column in --file (default: text)"
    )
    predict.add_argument(
        "--output", help="write the rows and their predictions as CSV to this path ('-': stdout)"
    )
    predict.set_defaults(handler=predict_command)


def predict_command(args: argparse.Namespace) -> int:
    rows = texts_to_score(args)
    # Loaded here, not at import: MLflow and the models would slow every command's start.
    from dataplatform.cli.champion import sentiment_champion, with_predictions

    model = sentiment_champion(PlatformSettings.from_environment())
    scored = with_predictions(rows, args.column, model)
    if args.output is None:
        output.console.print(predictions_table(scored, args.column))
    elif args.output == "-":
        scored.to_csv(sys.stdout, index=False)
    else:
        scored.to_csv(args.output, index=False)
        output.console.print(f"Wrote {len(scored)} predictions to {args.output}")
    return EXIT_OK


def texts_to_score(args: argparse.Namespace) -> pd.DataFrame:
    if args.file is not None and args.texts:
        raise UsageError("give texts or --file, not both")
    if args.file is not None:
        return read_texts(args.file, args.column)
    if not args.texts:
        raise UsageError("give one or more texts, or --file with a CSV of texts")
    return pd.DataFrame({args.column: args.texts})


def read_texts(path: Path, column: str) -> pd.DataFrame:
    try:
        rows = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UsageError(f"cannot read {path} as CSV: {error}") from None
    if column not in rows.columns:
        raise UsageError(
            f"{path} has no column {column!r} (columns: {', '.join(map(str, rows.columns))});"
            " name the texts' column with --column"
        )
    return rows


def predictions_table(scored: pd.DataFrame, column: str) -> Table:
    table = Table()
    table.add_column(column, overflow="fold")
    table.add_column("label")
    table.add_column("positive probability", justify="right")
    for text, label, probability in scored[[column, *PREDICTED_COLUMNS]].itertuples(index=False):
        table.add_row(escape(str(text)), str(label), f"{probability:.3f}")
    return table
