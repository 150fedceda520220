# One image for the user-code server, webserver, daemon and demo API (commands differ).
FROM python:3.11-slim
WORKDIR /opt/dataplatform
COPY pyproject.toml constraints.txt README.md ./
COPY platform ./platform
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --create-home dataplatform
COPY workspace.yaml dagster.yaml ./
ENV DAGSTER_HOME=/opt/dagster_home
RUN mkdir -p $DAGSTER_HOME && cp dagster.yaml $DAGSTER_HOME/ && chown -R dataplatform $DAGSTER_HOME
USER dataplatform
