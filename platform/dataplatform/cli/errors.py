"""The failures the command reports as one line and an exit code, never as a traceback."""

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR_CHECK_FAILED = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = """exit codes:
  0  success; WARN-severity check failures are reported but do not change the code
  1  a run failed (a step raised, a blocking check failed, the source was unreachable),
     replay-lineage could not reach DataHub, or predict found no champion or no MLflow
  2  usage or configuration error: unknown command, option, job, selection or partition, or a
     setting (environment variable) that is not accepted; nothing is run
  3  the runs succeeded but an ERROR-severity check failed (run: in these runs;
     status: in the latest evaluation of any check)
"""


class UsageError(Exception):
    """A request the code location cannot serve: reported like an argparse error (exit 2)."""


class LaunchError(Exception):
    """The code location could not be loaded or a run could not be launched (exit 1)."""
