"""Jobs, selected by asset group: the daily refresh, one per daily group, training, landing."""

import dagster as dg

# Modules, not their assets: the defs loader collects every definition a module holds, and
# an asset held by two modules would be defined twice.
from dataplatform.defs.cleaning import assets as cleaning
from dataplatform.defs.landing import knowledge_base
from dataplatform.defs.models import recommender_assets, sentiment_assets
from dataplatform.defs.models.retraining import TRAIN_MODELS_JOB
from dataplatform.defs.quality import assets as quality
from dataplatform.defs.quality import pipeline_health
from dataplatform.landing.datasets import TABULAR_DATASETS, landing_job_name
from dataplatform.partitions import daily_partitions

DAILY_GROUPS = ("raw", "cleaned", "entities", "models", "quality", "mart")
# Landed files have their own (per-file) partitions and runs, requested by the sensors.
PER_FILE = dg.AssetSelection.assets(
    cleaning.landed_reviews_cleaning,
    *(asset for asset in quality.quality_assets if asset.partitions_def is not daily_partitions),
)
# Judges the runs of a whole day, so it runs once the day is over, on its own schedule.
AFTER_THE_DAY = dg.AssetSelection.assets(pipeline_health.pipeline_health)
# Training reads the whole history: it runs when the retraining sensors ask, not every day.
TRAINING = dg.AssetSelection.assets(
    *sentiment_assets.sentiment_training_assets, recommender_assets.recommender
)
NOT_DAILY = PER_FILE | AFTER_THE_DAY | TRAINING

GROUP_JOB_DESCRIPTIONS = {
    "raw": "One day's records from the source API, as it gave them.",
    "cleaned": "One day's typed and validated tables, with the rows they reject.",
    "entities": "One day's user records resolved into entities, clusters and golden records.",
    "models": (
        "One day's scoring with the champion models, published into the mart"
        " (training: train_models_job)."
    ),
    "quality": "One day's integrity and drift reports on the cleaned tables.",
    "mart": "One day's tables published into the SQL data mart.",
}
GROUP_SELECTIONS: dict[str, dg.AssetSelection] = {
    group: dg.AssetSelection.groups(group) - NOT_DAILY for group in DAILY_GROUPS
}
# A day scored after its refresh (the first day, before any champion) reaches the mart too.
SCORES = GROUP_SELECTIONS["models"]
GROUP_SELECTIONS["models"] = SCORES | (
    SCORES.downstream(depth=1) & dg.AssetSelection.groups("mart")
)
group_jobs = [
    dg.define_asset_job(
        f"{group}_job", selection=selection, description=GROUP_JOB_DESCRIPTIONS[group]
    )
    for group, selection in GROUP_SELECTIONS.items()
]

daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.groups(*DAILY_GROUPS) - NOT_DAILY,
    partitions_def=daily_partitions,
    description="Everything that refreshes once a day, for one day's partition.",
)

train_models_job = dg.define_asset_job(
    TRAIN_MODELS_JOB,
    selection=TRAINING,
    tags={"dagster/concurrency_key": "training"},  # one at a time (dagster.yaml)
    description="Train every model on the whole history and promote the better ones.",
)

pipeline_health_job = dg.define_asset_job(
    "pipeline_health_job",
    selection=AFTER_THE_DAY,
    partitions_def=daily_partitions,
    description="The pipeline-health report of one day's runs.",
)

# A file's run converts it and cleans it, where a per-file cleaned table follows; daily tables
# pick up its rows in their own runs.
landing_jobs = [
    dg.define_asset_job(
        landing_job_name(dataset),
        selection=dg.AssetSelection.assets(dataset.key)
        .downstream()
        .required_multi_asset_neighbors()
        & (dg.AssetSelection.groups("landing") | PER_FILE),
        partitions_def=dataset.partitions,
        description="Convert one landed file (and clean it, where a cleaned table follows).",
    )
    for dataset in TABULAR_DATASETS
]

documents_job = dg.define_asset_job(
    knowledge_base.DOCUMENTS_JOB,
    selection=dg.AssetSelection.assets(knowledge_base.documents_knowledge_base),
    description="Rebuild the documents knowledge base.",
)
