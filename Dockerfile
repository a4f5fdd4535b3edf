# syntax=docker/dockerfile:1
# noc: one image for the API (`serve`), the worker (`worker`) and one-shot commands (`db upgrade`, `user add`).
# Build: docker build -t noc:local .      Run: docker run --rm noc:local --help

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/noc
WORKDIR /src
# Dependencies first, from pyproject.toml alone: editing the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
      > /tmp/requirements.txt \
 && /opt/noc/bin/pip install -r /tmp/requirements.txt
COPY README.md ./
COPY noc ./noc
COPY collectors ./collectors
RUN /opt/noc/bin/pip install --no-deps . && /opt/noc/bin/noc --help >/dev/null

FROM python:3.11-slim
LABEL org.opencontainers.image.title="noc" \
      org.opencontainers.image.description="Network operations for a cable/fibre operator"
ENV PATH=/opt/noc/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NOC_DATA_DIR=/var/lib/noc
# A fixed uid/gid so volume ownership survives rebuilds; the data directory exists (and belongs to noc)
# before a named volume is mounted on it, so the volume starts out owned by noc too.
RUN groupadd --system --gid 10001 noc \
 && useradd --system --uid 10001 --gid noc --home-dir /var/lib/noc --no-create-home --shell /usr/sbin/nologin noc \
 && install -d -o noc -g noc -m 0750 /var/lib/noc
COPY --from=build /opt/noc /opt/noc
USER noc
WORKDIR /srv
EXPOSE 8000
ENTRYPOINT ["noc"]
CMD ["--help"]
