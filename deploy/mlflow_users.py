"""Give MLflow's basic-auth app the platform's users: run as the admin, safe to run again.

The pipeline's user gets the default workspace's USE grant (it may create experiments and
models, and becomes MANAGE on what it creates) and MANAGE on the platform's experiment and
registered models, created here first so they exist with that grant (it logs runs, registers
versions, moves the champion alias and deletes a half-recorded version). The viewer gets
nothing beyond the server's `default_permission`: READ. Both are created, or given the password
the environment holds now, so rotating a password is a re-run.

Environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME/_PASSWORD (the admin),
MLFLOW_PIPELINE_USER/_PASSWORD, MLFLOW_VIEWER_USER/_PASSWORD.
"""

import os

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from mlflow.server.auth.client import AuthServiceClient

# The names the platform writes to (dataplatform.models.tracking.DEFAULT_EXPERIMENT and the
# models' MODEL_NAME constants); platform_tests/deployment/test_auth.py keeps them in step.
EXPERIMENT = "dataplatform"
REGISTERED_MODELS = ("review_sentiment", "track_recommender")
ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
WORKSPACE = "default"
CREATOR_ROLE = "platform_creator"


def ensure_user(auth: AuthServiceClient, username: str, password: str) -> None:
    try:
        auth.create_user(username, password)
    except RestException as error:
        if error.error_code != ALREADY_EXISTS:
            raise
        auth.update_user_password(username, password)


def grant(auth: AuthServiceClient, username: str, resource_type: str, resource_id: str) -> None:
    """MANAGE on one resource, replacing whatever lesser grant the user had on it."""
    if auth.get_user_permission(username, resource_type, resource_id).permission == "MANAGE":
        return
    try:
        auth.grant_user_permission(username, resource_type, resource_id, "MANAGE")
    except RestException as error:
        if error.error_code != ALREADY_EXISTS:
            raise
        auth.revoke_user_permission(username, resource_type, resource_id)
        auth.grant_user_permission(username, resource_type, resource_id, "MANAGE")


def ensure_creator(auth: AuthServiceClient, username: str) -> None:
    """The workspace's USE grant, through a role: `username` may create experiments and models."""
    roles = {role.name: role.id for role in auth.list_roles(WORKSPACE)}
    role_id = roles.get(CREATOR_ROLE) or auth.create_role(WORKSPACE, CREATOR_ROLE).id
    granted = {(p.resource_type, p.permission) for p in auth.list_role_permissions(role_id)}
    if ("workspace", "USE") not in granted:
        auth.add_role_permission(role_id, "workspace", "*", "USE")
    if CREATOR_ROLE not in {role.name for role in auth.list_user_roles(username)}:
        auth.assign_role(username, role_id)


def ensure_experiment(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment else client.create_experiment(name)


def ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != ALREADY_EXISTS:
            raise


def main() -> None:
    tracking_uri = os.environ["MLFLOW_TRACKING_URI"]
    auth = AuthServiceClient(tracking_uri)
    client = MlflowClient(tracking_uri)
    pipeline = os.environ["MLFLOW_PIPELINE_USER"]
    ensure_user(auth, pipeline, os.environ["MLFLOW_PIPELINE_PASSWORD"])
    ensure_user(auth, os.environ["MLFLOW_VIEWER_USER"], os.environ["MLFLOW_VIEWER_PASSWORD"])
    ensure_creator(auth, pipeline)
    # Created here when missing, so a store that predates the auth app gets the same grants.
    grant(auth, pipeline, "experiment", ensure_experiment(client, EXPERIMENT))
    for name in REGISTERED_MODELS:
        ensure_registered_model(client, name)
        grant(auth, pipeline, "registered_model", name)
    print(f"MLflow users ready: {pipeline} creates and manages the platform's models")


if __name__ == "__main__":
    main()
