# The yumda image for al2023 (the default target): Amazon Linux 2023 with Node.js from its own
# repositories, since there is no official Node.js image of it. Usage as for the Debian ones:
#   docker run --rm -v "$PWD":/out IMAGE install poppler-utils --out /out/poppler.zip
# Not built by yumda's CI: its machines can pull no image but Debian's (see README, Install).
ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023
FROM ${BASE}
ARG YUMDA_PACKAGE=/tmp/yumda.tgz
# cpio: what the build image adds (rpm2cpio's archives are unpacked with it); findutils for the
# entry point's chown; nodejs22 with npm, linked as node and npm (AL2023 names them node-22, npm-22)
RUN dnf install -y --setopt=install_weak_deps=False nodejs22 nodejs22-npm cpio findutils tar gzip zstd \
 && ln -sf "$(command -v node-22)" /usr/local/bin/node && ln -sf "$(command -v npm-22)" /usr/local/bin/npm \
 && dnf clean all && rm -rf /var/cache/dnf
COPY yumda.tgz* /tmp/
RUN npm install --global --omit=dev --no-audit --no-fund "$YUMDA_PACKAGE" \
 && rm -f /tmp/yumda.tgz && rm -rf /root/.npm && yumda --version
COPY entrypoint.sh /usr/local/bin/yumda-entrypoint
ENV YUMDA_IMAGE_TARGET=al2023
WORKDIR /out
ENTRYPOINT ["/usr/local/bin/yumda-entrypoint"]
LABEL org.yumda.role=tool org.yumda.target=al2023
