"""A landing sensor tick over a folder whose archive holds 10,000 processed files, 100 new."""

import json
import tempfile
import time
from pathlib import Path

import dagster as dg

from bench.common import markdown_table
from dataplatform.defs.landing.sensors import build_landing_sensor
from dataplatform.landing.datasets import REVIEWS, partition_key
from dataplatform.landing.zone import LandingZone, content_sha256

ARCHIVED = 10_000
NEW = 100


def main() -> None:
    sensor = build_landing_sensor(REVIEWS, "land_reviews_job")
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        zone = LandingZone(root=f"{tmp}/landing")
        archive = Path(zone.root) / "_archive" / "reviews"
        archive.mkdir(parents=True)
        keys = []
        for number in range(ARCHIVED):
            path = archive / f"{number:012d}__old_{number}.csv"
            path.write_text(f"text,rating\nold {number},3\n")
            keys.append(partition_key(path.name, content_sha256(path)))
        instance.add_dynamic_partitions(REVIEWS.partitions.name, keys)
        for key in keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(REVIEWS.key, partition=key))
        incoming = zone.dataset_dir("reviews")
        incoming.mkdir(parents=True)
        for number in range(NEW):
            (incoming / f"new_{number}.csv").write_text(f"text,rating\nnew {number},4\n" * 200)

        timings, cursor, requests = [], None, []
        for _ in range(2):  # first sighting, then stable: hashed and requested
            started = time.perf_counter()
            result = sensor(
                dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources={"landing": zone}
                )
            )
            timings.append(time.perf_counter() - started)
            cursor, requests = result.cursor, result.run_requests
    print(
        markdown_table(
            ["tick", "seconds", "run requests", "cursor bytes", "target"],
            [
                ["first sighting of 100 new files", f"{timings[0]:.3f}", 0, "", "< 2 s"],
                [
                    "100 stable files hashed and requested",
                    f"{timings[1]:.3f}",
                    len(requests),
                    len(json.dumps(cursor)),
                    "< 2 s",
                ],
            ],
        )
    )
    print(
        f"\n{ARCHIVED:,} archived files and materialised partitions;"
        f" the cursor lists only the {NEW} waiting files."
    )


if __name__ == "__main__":
    main()
