# One image for every Python service of docker-compose.yml (user code, webserver, daemon,
# Celery workers, MLflow server, demo API); only the command differs. No secret is baked in:
# connection details arrive as environment variables at run time.
FROM python:3.11-slim
WORKDIR /opt/dataplatform
COPY pyproject.toml constraints.txt README.md ./
COPY platform ./platform
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --create-home dataplatform
COPY workspace.yaml dagster.yaml ./
ENV DAGSTER_HOME=/opt/dagster_home
# Named volumes mounted on these paths inherit their owner from the image.
RUN mkdir -p $DAGSTER_HOME /data /landing /mlartifacts \
 && cp dagster.yaml $DAGSTER_HOME/ \
 && chown -R dataplatform $DAGSTER_HOME /data /landing /mlartifacts
USER dataplatform
