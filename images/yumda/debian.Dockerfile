# The yumda image for a Debian target: `docker run --rm -v "$PWD":/out IMAGE install jq --out /out/jq.zip`
# builds a layer with no Docker engine: the package manager runs in this container (--local), so
# the image's Debian release is the target's (debian12: node:22-bookworm-slim, debian13:
# node:24-trixie-slim). Built by scripts/build-image.sh, whose context holds the `npm pack`
# tarball as yumda.tgz (or set YUMDA_PACKAGE to install a published version instead).
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
ARG TARGET=debian12
ARG YUMDA_PACKAGE=/tmp/yumda.tgz
# ca-certificates for https repositories; zstd compresses the tree of a packed layer (--pack)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates zstd \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY yumda.tgz* /tmp/
RUN npm install --global --omit=dev --no-audit --no-fund "$YUMDA_PACKAGE" \
 && rm -f /tmp/yumda.tgz && rm -rf /root/.npm && yumda --version
COPY entrypoint.sh /usr/local/bin/yumda-entrypoint
ENV YUMDA_IMAGE_TARGET=${TARGET}
WORKDIR /out
ENTRYPOINT ["/usr/local/bin/yumda-entrypoint"]
LABEL org.yumda.role=tool org.yumda.target=${TARGET}
