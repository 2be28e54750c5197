# syntax=docker/dockerfile:1
# Builds dist/ior in a Debian 12 (bookworm) container with the very scripts a
# checkout uses: scripts/setup.sh (Debian packages, npm ci, native + TypeScript
# build), then scripts/build-binary.sh. Nothing else happens here on purpose:
# what this image does is what `npm run build:binary` does on a bookworm host.
#
#   DOCKER_BUILDKIT=1 docker build --output dist .       # -> ./dist/ior
#
# The base is the official Node image, so the Node embedded in dist/ior is an
# official build (SEA fuse, headers for node-gyp, glibc 2.28 floor). The BPF
# program is compiled against the build host's kernel BTF (CO-RE makes the
# result portable); on a host without /sys/kernel/btf/vmlinux pass a
# vmlinux.h: put it in the context and add --build-arg IOR_VMLINUX_H=/src/vmlinux.h.
# This file is not exercised by CI (no Docker there); see docs/install.md.
ARG NODE_VERSION=20.20.2
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
ARG IOR_VMLINUX_H
RUN bash scripts/setup.sh && bash scripts/build-binary.sh

FROM scratch AS export
COPY --from=build /src/dist/ior /ior
