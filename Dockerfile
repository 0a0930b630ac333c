# tfgridd in a container, for docker-compose.yml. Untested here (no Docker engine on the machines
# this project is developed on); the binary itself is what `make build` produces.
#
#   docker build -t tfgrid/tfgridd .

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: the runtime image needs no Go and no matching libc.
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o /out/tfgridd ./cmd/tfgridd

FROM debian:bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl \
  && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/tfgridd /usr/local/bin/tfgridd
# CometBFT RPC, P2P, REST API, gRPC
EXPOSE 26657 26656 1317 9090
ENTRYPOINT ["tfgridd"]
CMD ["version"]
