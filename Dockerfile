FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build

FROM gcr.io/distroless/static-debian12
COPY --from=build /src/bin/kabar /kabar
ENV KABAR_DATA_DIR=/data KABAR_CLIENT_ADDR=0.0.0.0:8008
VOLUME /data
EXPOSE 8008 8448
ENTRYPOINT ["/kabar", "serve"]
