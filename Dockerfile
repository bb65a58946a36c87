# One process: the bot (HTTP mode on $PORT, or Socket Mode when SLACK_APP_TOKEN is set), with
# /livez, /readyz and /metrics on $METRICS_PORT.
# The dependencies come from requirements.lock (pinned, with hashes; `make lock` refreshes it), so the
# image is reproducible; the project itself is installed without resolving anything again.
# A production image: the wheel built here leaves out the PD simulator and the Slack playground
# (pd/simulator, bot/playground: the `demo` extra, demo/pyproject.toml), so PD_URL and the Slack
# credentials must be set; without them `serve` says so and exits 2.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY actions ./actions
COPY agent ./agent
COPY pd ./pd
COPY store ./store
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8080 \
    METRICS_PORT=9090 \
    TIKV_CHATOPS_DB=/data/tikv-chatops.db
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-deps /wheels/*.whl \
    && rm -rf /wheels /tmp/requirements.lock \
    && useradd --system --uid 10001 --home-dir /data --create-home chatops
USER chatops
WORKDIR /data
VOLUME ["/data"]
# 8080: Slack's /slack/events only. 9090: /livez, /readyz, /metrics (keep it inside the cluster).
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"METRICS_PORT\", \"9090\")}/livez', timeout=4)"
ENTRYPOINT ["tikv-chatops"]
CMD ["serve"]
