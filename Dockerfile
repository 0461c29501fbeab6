# syntax=docker/dockerfile:1
# The modhygiene image: the binary on a Go toolchain image (tidy, check and vuln run the go
# command). Build with: docker build --build-arg VERSION=v1.2.3 -t modhygiene .
# Use with: docker run --rm -v "$PWD:/src" modhygiene            (runs `modhygiene run`)
#           docker run --rm -v "$PWD:/src" modhygiene tidy --fix

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/modhygiene/modhygiene/internal/cli.Version=${VERSION}" \
      -o /out/modhygiene ./cmd/modhygiene \
 && /out/modhygiene version

FROM golang:1.26
ARG VERSION=devel
LABEL org.opencontainers.image.title="modhygiene" \
      org.opencontainers.image.description="Keeps Go module dependencies fast to fetch and healthy" \
      org.opencontainers.image.source="https://github.com/modhygiene/modhygiene" \
      org.opencontainers.image.version="${VERSION}"
# The official Go images pin GOTOOLCHAIN=local; a repository whose go line asks for a newer Go
# must get that toolchain, as it would on a developer's machine.
ENV GOTOOLCHAIN=auto
# A mounted or CI-cloned repository is often owned by another user than the container's: let git
# (and the go command's VCS lookups) work in it.
RUN git config --system --add safe.directory '*'
COPY --from=build /out/modhygiene /usr/local/bin/modhygiene
WORKDIR /src
ENTRYPOINT ["modhygiene"]
CMD ["run"]
