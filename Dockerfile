# wxbridge container image.
#
#   docker build -t wxbridge --build-arg COMMIT=$(git rev-parse HEAD) --build-arg TAG=v0.1.0 .
#   docker run --rm -v "$PWD/data:/data" wxbridge     # first start: writes /data/config.yaml
#
# /data holds config.yaml, registration.yaml, the SQLite database and logs. The container
# starts as root only to fix the ownership of /data, then runs the bridge as UID:GID
# (default 1337:1337; set the UID and GID environment variables to change it). See
# docker-run.sh for the start sequence. Orchestrators can instead name the command, e.g.
#   docker run --user 991:991 --cap-drop=ALL -v …/config:/config:ro -v …/data:/data -w /data \
#     wxbridge /usr/bin/wxbridge -c /config/config.yaml -r /config/registration.yaml --no-update
# which runs as given (README.md, "Docker"; docker-compose.example.yml for compose).
#
# The base images are build arguments, so the image also builds from a local registry or
# from stand-in images where Docker Hub is unreachable (test/docker/run does that):
#   GO_IMAGE       a Debian bookworm image with Go 1.26, gcc and libc6-dev (golang:1.26-bookworm)
#   RUNTIME_IMAGE  a Debian bookworm image (glibc, util-linux's setpriv; debian:bookworm-slim)
# The binary is built with cgo (end-to-bridge encryption in bridgev2 needs it) and goolm, so
# it needs glibc at run time but no libolm; both images must be the same Debian release.
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# Optional: a Go module proxy list for `go mod download` and `go build` (e.g. a local
# mirror); empty means Go's default (proxy.golang.org). go.sum verifies what it serves.
# test/docker/run passes only file:///hostmodcache, a module cache it filled on the host.
ARG GOPROXY=""
WORKDIR /src
# Modules first, so that this layer is reused while only the source changes. The replace
# target of github.com/mattn/go-sqlite3 must be there for `go mod download`.
COPY go.mod go.sum ./
COPY bridge/sqliteshim/ bridge/sqliteshim/
RUN go mod download
COPY . .
ARG TAG=unknown
ARG COMMIT=unknown
ARG BUILD_TIME=""
RUN set -eu; \
	build_time=${BUILD_TIME:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}; \
	CGO_ENABLED=1 go build -tags goolm -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.Tag=${TAG} -X main.Commit=${COMMIT} -X main.BuildTime=${build_time}" \
		-o /out/wxbridge ./cmd/wxbridge; \
	/out/wxbridge --version

FROM ${RUNTIME_IMAGE}
# The CA bundle of the build image (Go reads /etc/ssl/certs/ca-certificates.crt): the run
# stage needs no package manager and no network while it is built.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/wxbridge /usr/bin/wxbridge
COPY LICENSE /usr/share/doc/wxbridge/LICENSE
COPY docker-run.sh /docker-run.sh
ENV UID=1337 GID=1337
VOLUME /data
WORKDIR /data
ENTRYPOINT ["/docker-run.sh"]
