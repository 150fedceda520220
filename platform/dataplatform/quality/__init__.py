"""The `quality` group: deepchecks reports, their asset checks, pipeline health and alerts."""

import logging
import warnings

with warnings.catch_warnings():
    # deepchecks 0.19 imports pkg_resources, which warns of its own deprecation on import.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import deepchecks

# Below WARNING, deepchecks draws progress bars on stderr, between the platform's own lines.
deepchecks.set_verbosity(logging.WARNING)
