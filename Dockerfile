# Build the web client, then the static Go binary that embeds it.
FROM node:20-bookworm AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/client ./web/dist/client
RUN make build

FROM gcr.io/distroless/static-debian12
COPY --from=build /src/bin/kabar /kabar
ENV KABAR_DATA_DIR=/data KABAR_CLIENT_ADDR=0.0.0.0:8008
VOLUME /data
EXPOSE 8008 8448
ENTRYPOINT ["/kabar", "serve"]
