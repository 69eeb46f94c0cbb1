# The container image: the linux-x64 standalone executable and only what it needs to run, for
# `COPY --from` into a job image or `docker run`. It holds no shell, so it is no job image itself.
#
# `npm run build:image` builds this file with buildah, offline: scripts/image-rootfs.sh lays out
# the rootfs stage's result on the build machine and buildah takes it with
# `--build-context rootfs=<dir>`, so the first stage does not run there. With Docker:
#   npm ci && BINARY_TARGETS=linux-x64 npm run build:binaries
#   docker build --build-arg VERSION=<version> --build-arg REVISION=$(git rev-parse HEAD) .
FROM --platform=linux/amd64 debian:bookworm-slim AS rootfs
ARG VERSION
COPY scripts/image-rootfs.sh /usr/local/sbin/image-rootfs.sh
COPY dist/release/gitlab-aws-credential-helper_${VERSION}_linux_amd64.tar.gz /tmp/release.tar.gz
RUN sh /usr/local/sbin/image-rootfs.sh /tmp/release.tar.gz /rootfs

FROM scratch
ARG VERSION
ARG REVISION
COPY --from=rootfs /rootfs/ /
COPY --from=rootfs --chown=65532:65532 /rootfs/home/ /home/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gitlab-aws-credential-helper"]
CMD ["--help"]
LABEL org.opencontainers.image.title="gitlab-aws-credential-helper" \
      org.opencontainers.image.description="Exchanges a GitLab CI/CD ID token for AWS credentials (credential_process, shared credentials profile, environment variables)" \
      org.opencontainers.image.source="https://gitlab.com/gitlab-aws-credential-helper/gitlab-aws-credential-helper" \
      org.opencontainers.image.url="https://gitlab.com/gitlab-aws-credential-helper/gitlab-aws-credential-helper" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT AND LGPL-2.1-or-later"
