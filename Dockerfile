# syntax=docker/dockerfile:1
# The modhygiene image: the binary on a Go toolchain image (tidy, check and vuln run the go
# command), running as an unprivileged user.
#
# Build (every platform is cross-compiled on the build machine, no emulation):
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 -t modhygiene .
# Use on a checkout: run as yourself, so that `tidy --fix` leaves files you own:
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/src" modhygiene            (modhygiene run)
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/src" modhygiene tidy --fix
#
# The base image is pinned by digest (the multi-platform index of the tag). To update it, take
# the digest of the new tag's index and replace both below, e.g.
#   docker buildx imagetools inspect golang:1.26-bookworm --format '{{json .Manifest.Digest}}'
# (.github/dependabot.yml proposes these updates.)
ARG GO_IMAGE=golang:1.26.2-bookworm@sha256:47ce5636e9936b2c5cbf708925578ef386b4f8872aec74a67bd13a627d242b19

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=devel
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/modhygiene/modhygiene/internal/cli.Version=${VERSION}" \
      -o /out/modhygiene ./cmd/modhygiene \
 && go version -m /out/modhygiene | grep -q "GOARCH=$TARGETARCH"

FROM ${GO_IMAGE}
ARG VERSION=devel
LABEL org.opencontainers.image.title="modhygiene" \
      org.opencontainers.image.description="Keeps Go module dependencies fast to fetch and healthy" \
      org.opencontainers.image.source="https://github.com/modhygiene/modhygiene" \
      org.opencontainers.image.version="${VERSION}"
# An unprivileged user by default. Its home is writable by any user, so that the go command's
# caches work for whatever --user a bind mount needs; GOPATH (/go) is already. A mounted or
# CI-cloned repository is often owned by another user than the container's: git (and the go
# command's VCS lookups) must work in it all the same.
RUN useradd --uid 10001 --user-group --home-dir /home/modhygiene --create-home --shell /bin/sh modhygiene \
 && chmod 1777 /home/modhygiene \
 && git config --system --add safe.directory '*'
ENV HOME=/home/modhygiene
# The official Go images pin GOTOOLCHAIN=local; a repository whose go line asks for a newer Go
# must get that toolchain, as it would on a developer's machine.
ENV GOTOOLCHAIN=auto
COPY --from=build /out/modhygiene /usr/local/bin/modhygiene
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["modhygiene"]
CMD ["run"]
