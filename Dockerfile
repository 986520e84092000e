# Hotline in a container: SIP (UDP+TCP 5060), RTP (20000-20999/udp), HTTP API (8080).
# Models are not baked in: mount a model directory or run `hotline models pull NAME` into /data/models.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    XDG_CACHE_HOME=/data/cache HOTLINE_CONFIG=/etc/hotline/hotline.yaml

RUN apt-get update \
 && apt-get install -y --no-install-recommends libsndfile1 tini espeak-ng \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/hotline
COPY pyproject.toml README.md requirements.lock ./
COPY media media
COPY voice voice
COPY asr asr
COPY biometrics biometrics
COPY hints hints
COPY core core
COPY privacy privacy
COPY profiles profiles
COPY callcenter callcenter
COPY store store
COPY webhooks webhooks
COPY verification verification
COPY calls calls
COPY console console
COPY web web
COPY app app
COPY hotline hotline
RUN pip install ".[postgres]" -c requirements.lock && pip install --no-deps "resemblyzer==0.1.4"
COPY configs/hotline.yaml /etc/hotline/hotline.yaml
COPY configs/voiceprint /etc/hotline/voiceprint
COPY configs/knowledge /etc/hotline/knowledge
COPY configs/hints.yaml /etc/hotline/hints.yaml
ENV HOTLINE_BIOMETRICS__COHORT_FILE=/etc/hotline/voiceprint/cohort.npz \
    HOTLINE_BIOMETRICS__CALIBRATION_FILE=/etc/hotline/voiceprint/calibration.json \
    HOTLINE_HINTS__KNOWLEDGE_DIR=/etc/hotline/knowledge \
    HOTLINE_HINTS__RULES_FILE=/etc/hotline/hints.yaml
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

RUN useradd --system --home /data hotline && mkdir -p /data && chown hotline /data
USER hotline
WORKDIR /data
VOLUME ["/data"]

EXPOSE 5060/udp 5060/tcp 8080/tcp 20000-20999/udp
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["hotline", "serve", "--rtp-ports", "20000-20999"]
