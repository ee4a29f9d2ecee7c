# syntax=docker/dockerfile:1
# Build: docker build -t ibbot .
# Run:   docker run -v $PWD/ibbot.yaml:/config/ibbot.yaml:ro -v ibbot-data:/data \
#          -e IBBOT_MATRIX_PASSWORD=... -p 127.0.0.1:9090:9090 ibbot

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
# Pure Go (the SQLite driver needs no cgo), so the binary is static; the
# same script CI runs, with the demo's test servers left out.
RUN VERSION=${VERSION} COMMIT=${COMMIT} sh tools/build.sh /out/ibbot && mkdir /out/data

# distroless/static: CA certificates and tzdata, no shell; its nonroot user is 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ibbot /usr/local/bin/ibbot
# /config holds ibbot.yaml (read-only); /data holds the SQLite database
# (the default `database: ibbot.db` is relative to the working directory).
# /data is made here and owned by the runtime user: a VOLUME or WORKDIR
# alone would create it owned by root under builders other than BuildKit.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME ["/data"]
WORKDIR /data
# The operations endpoint must listen beyond loopback inside a container:
# set http.listen: 0.0.0.0:9090 in the config.
EXPOSE 9090
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ibbot"]
CMD ["run", "-config", "/config/ibbot.yaml"]
