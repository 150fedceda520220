"""Model cards: what a registered version was trained on, how it scores overall, per class and
per slice, against which baseline, what it is for and where it falls short, as Markdown and
JSON artifacts of the version's MLflow run and as flat properties for the catalog."""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import cast

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CARD_MARKDOWN = "model_card.md"
CARD_JSON = "model_card.json"
PROPERTY_PREFIX = "card."

Scores = Mapping[str, float]


class CardError(RuntimeError):
    """The card could not be logged; the version it describes stays registered."""


@dataclass(frozen=True)
class TrainingData:
    """The asset a version was fitted on: its partitions and the rows each part held."""

    asset: str
    partitions: tuple[str, ...]
    rows: Mapping[str, int]

    @property
    def partition_range(self) -> str:
        if not self.partitions:
            return "none"
        return f"{self.partitions[0]}..{self.partitions[-1]} ({len(self.partitions)} partitions)"


@dataclass(frozen=True)
class CardBaseline:
    """What a model that learnt nothing scores, and this version's score on that metric."""

    name: str
    metric: str
    score: float
    model_score: float


@dataclass(frozen=True)
class ModelCard:
    model_name: str
    version: str
    summary: str
    training_data: TrainingData
    metrics: Scores
    baseline: CardBaseline
    decision: str
    intended_use: str
    known_limits: tuple[str, ...]
    per_class: Mapping[str, Scores] = field(default_factory=dict)
    per_slice: Mapping[str, Scores] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready: NaN (a metric undefined on a slice) becomes null."""
        return cast(dict, _without_nan(asdict(self)))

    def markdown(self) -> str:
        data = self.training_data
        sections = [
            f"# Model card: {self.model_name} version {self.version}",
            self.summary,
            f"**Decision**: {self.decision}",
            "## Intended use",
            self.intended_use,
            "## Training data",
            f"`{data.asset}`, partitions {data.partition_range}.",
            _table(["part", "rows"], [[part, str(rows)] for part, rows in data.rows.items()]),
            "## Metrics",
            _table(["metric", "value"], [[name, _number(v)] for name, v in self.metrics.items()]),
            "## Baseline",
            f"{self.baseline.name}: {self.baseline.metric} {_number(self.baseline.score)}"
            f" (this version {_number(self.baseline.model_score)}).",
            *_scores_section("Per class", "class", self.per_class),
            *_scores_section("Per slice", "slice", self.per_slice),
            "## Known limits",
            "\n".join(f"- {limit}" for limit in self.known_limits),
        ]
        return "\n\n".join(sections) + "\n"

    def properties(self) -> dict[str, str]:
        """The card as flat string properties (DataHub's customProperties), prefixed `card.`."""
        data = self.training_data
        flat = {
            "intended_use": self.intended_use,
            "known_limits": " | ".join(self.known_limits),
            "decision": self.decision,
            "training_data.asset": data.asset,
            "training_data.partitions": data.partition_range,
            **{f"training_data.rows.{part}": str(rows) for part, rows in data.rows.items()},
            **{f"metric.{name}": _number(value) for name, value in self.metrics.items()},
            "baseline": self.baseline.name,
            "baseline.metric": self.baseline.metric,
            "baseline.score": _number(self.baseline.score),
            "baseline.model_score": _number(self.baseline.model_score),
            **_flat_scores("class", self.per_class),
            **_flat_scores("slice", self.per_slice),
        }
        return {f"{PROPERTY_PREFIX}{key}": value for key, value in flat.items()}


def log_card(card: ModelCard, client: MlflowClient | None = None) -> str:
    """Logs the card's Markdown and JSON with the run that logged its version; the run id."""
    client = client or MlflowClient()
    try:
        run_id = client.get_model_version(card.model_name, card.version).run_id
        if run_id is None:
            raise CardError(f"{card.model_name} version {card.version} has no run to log to")
        client.log_text(run_id, card.markdown(), CARD_MARKDOWN)
        client.log_dict(run_id, card.as_dict(), CARD_JSON)
    except (MlflowException, OSError) as error:
        raise CardError(
            f"{card.model_name} version {card.version} is registered, but its model card could"
            f" not be logged ({error}); the next training on new data logs a card again"
        ) from error
    return run_id


def _scores_section(title: str, kind: str, scores: Mapping[str, Scores]) -> list[str]:
    if not scores:
        return []
    names = list(dict.fromkeys(name for values in scores.values() for name in values))
    rows = [
        [group, *(_number(values.get(name, math.nan)) for name in names)]
        for group, values in scores.items()
    ]
    return [f"## {title}", _table([kind, *names], rows)]


def _flat_scores(kind: str, scores: Mapping[str, Scores]) -> dict[str, str]:
    return {
        f"{kind}.{group}.{name}": _number(value)
        for group, values in scores.items()
        for name, value in values.items()
    }


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def _without_nan(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nan(item) for item in value]
    return value
