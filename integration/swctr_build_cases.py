"""The Dockerfiles swctr's builds are checked against buildah's with: together they use every
instruction buildah 1.28 (Debian's) understands, with whiteouts, opaque directories, symlinks,
hard links, setuid bits and ownership through --chown and USER. Each case is a context (files
written by `make`) and a Dockerfile; `{url}` is the test's own HTTP server on loopback."""
import io
import os
import tarfile


def write(ctx, rel, data, mode=0o644):
    path = os.path.join(ctx, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def tar_bytes(entries, compress="gz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:" + compress) as t:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, mode
                t.addfile(info)
            else:
                info.size, info.mode, info.uid, info.gid = len(data), mode, 1001, 1002
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_instructions(ctx):
    write(ctx, "app/main.sh", "#!/bin/sh\necho main\n", 0o755)
    write(ctx, "app/conf/settings.ini", "[a]\nb=1\n", 0o640)
    write(ctx, "app/notes.md", "notes\n")
    write(ctx, "app/build/out.o", "object\n")
    write(ctx, "app/build/keep.o", "kept by an exception\n")
    write(ctx, "docs/a.txt", "a\n")
    write(ctx, "docs/b.txt", "b\n")
    write(ctx, "docs/c.md", "c\n")
    write(ctx, "secret.key", "never sent\n", 0o600)
    write(ctx, "deep/x/y/z.log", "log\n")
    write(ctx, ".dockerignore", "secret.key\n**/*.log\napp/build/*.o\n!app/build/keep.o\n")
    write(ctx, "vendor.tar.gz", tar_bytes([("vendor", None, 0o755), ("vendor/lib.txt", b"library\n", 0o644),
                                           ("vendor/bin", None, 0o750), ("vendor/bin/tool", b"#!/bin/sh\n", 0o755)]))
    os.symlink("main.sh", os.path.join(ctx, "app", "run"))


INSTRUCTIONS = r"""# syntax=docker/dockerfile:1
# A global ARG for FROM, and one a stage declares again.
ARG BASE=busybox
ARG VERSION=1.2
FROM ${BASE}
ARG VERSION
ARG FLAVOR
ARG EMPTY=
ENV APP_HOME=/opt/app \
    # a comment inside a continuation
    VERSION_TAG=v${VERSION} \
    FLAVOR_OR_DEFAULT=${FLAVOR:-plain} FLAVOR_IF_SET=${VERSION:+set} EMPTY_OR=${EMPTY:-fallback}
LABEL org.example.version="${VERSION}" org.example.name=demo \
      "org.example.spaced key"="with space"
MAINTAINER Someone <someone@example.com>
WORKDIR $APP_HOME
WORKDIR sub
WORKDIR ..
COPY app ./
COPY --chown=1234:2345 --chmod=640 docs/*.txt /docs/
COPY docs/c.md /docs/renamed.md
COPY ["app/notes.md", "/exec-form/"]
ADD vendor.tar.gz /opt/
ADD --chown=7:8 app/notes.md /added/notes.md
ADD {url}/remote.txt /downloads/
RUN echo "$VERSION $FLAVOR_OR_DEFAULT $FLAVOR_IF_SET $EMPTY_OR" > /env.txt && ls -1 /opt/app > /listing.txt
RUN ["/bin/sh", "-c", "echo exec form > /exec.txt"]
EXPOSE 80 443/tcp 53/udp
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=4 CMD wget -qO- http://127.0.0.1/ || exit 1
SHELL ["/bin/sh", "-ec"]
RUN echo "$0" > /shell.txt
ONBUILD RUN echo from trigger
USER 1234:2345
RUN id > /tmp/id.txt
# (after the last RUN: buildah makes a volume's directory in the layers of RUNs after it;
# swctr, as BuildKit, only records it)
VOLUME /data
VOLUME ["/cache"]
ENTRYPOINT ["/opt/app/main.sh"]
CMD ["--verbose"]
"""


def make_layers(ctx):
    write(ctx, "payload/setuid-tool", "#!/bin/sh\n", 0o4755)
    write(ctx, "payload/plain", "plain\n")
    write(ctx, "payload/more", "more\n", 0o600)


LAYERS = r"""FROM busybox
RUN mkdir -p /gone/inner /replaced/old /kept && echo x > /gone/inner/x && echo old > /replaced/old/f \
    && echo f > /kept/file && echo 1 > /tmp/one && echo 'app:x:1500:1600::/home/app:/bin/sh' >> /etc/passwd \
    && echo 'app:x:1600:' >> /etc/group && mkdir -p /home/app && chown app:app /home/app
# Whiteouts: a file, a directory; an opaque directory (removed, then made again).
RUN rm -rf /gone /tmp/one /kept/file /bin/ls && rm -rf /replaced && mkdir /replaced && echo new > /replaced/new
# Symlinks (relative, absolute, dangling) and hard links.
RUN ln -s /kept /abs-link && ln -s ../kept /home/rel-link && ln -s /nowhere /dangling \
    && echo data > /kept/original && ln /kept/original /kept/hardlink
COPY --chmod=4755 payload/setuid-tool /usr/local/bin/
# (buildah 1.28 drops set-id bits under --chown; swctr keeps them as BuildKit does: plain files here)
COPY --chown=app:app payload/plain payload/more /home/app/payload/
RUN chmod u+s /bin/busybox && chmod 2755 /kept
USER app
RUN echo mine > /home/app/owned && mkdir /home/app/dir
USER root
RUN touch -h /abs-link && chown -h 1500:1600 /dangling
"""


def make_multistage(ctx):
    write(ctx, "src/main.c", "int main() { return 0; }\n")
    write(ctx, "src/version", "3\n")


MULTISTAGE = r"""FROM busybox AS base
RUN mkdir -p /build && echo 'builder:x:2000:2000::/:/bin/sh' >> /etc/passwd

FROM base AS build
COPY src /build/src
RUN cd /build && cat src/version > artifact && chown 2000:2000 artifact && ln -s artifact latest \
    && mkdir -p out/bin && echo tool > out/bin/tool && chmod 755 out/bin/tool

FROM build AS unused
RUN exit 1

FROM busybox AS mid
COPY --from=build /build/artifact /from-name/
COPY --from=1 /build/latest /from-index
COPY --from=build /build/out/ /usr/local/
COPY --from=busybox /bin/busybox /from-image/busybox
RUN --mount=type=bind,from=build,source=/build,target=/mnt wc -c < /mnt/artifact > /artifact-size

FROM mid AS final
# (a mount target's missing parents go again after the step, as BuildKit removes them; buildah
# keeps them: the target's parent exists here)
RUN --mount=type=cache,target=/var/thing echo cached > /var/thing/f && echo done > /done
RUN --mount=type=tmpfs,target=/scratch echo tmp > /scratch/f && ls /scratch > /scratch-list
CMD ["cat", "/done"]
"""


def make_debian(ctx):
    write(ctx, "hello.sh", "#!/bin/sh\necho hello from $(id -un)\n", 0o755)


DEBIAN = r"""FROM debian-minbase
RUN useradd --create-home --uid 1500 --shell /bin/bash app && mkdir /srv/data && chown app:app /srv/data \
    && rm -rf /var/log/apt /var/log/dpkg.log
COPY --chown=app:app hello.sh /home/app/bin/hello.sh
USER app
WORKDIR /home/app
RUN ./bin/hello.sh > greeting && touch /srv/data/mine
USER root
RUN dpkg-query -W -f '${Package}\n' > /packages.txt && rm -f /usr/bin/dpkg-split
CMD ["/home/app/bin/hello.sh"]
"""


# name, make(ctx), Dockerfile, extra build options (the same for swctr and buildah).
CASES = [
    ("instructions", make_instructions, INSTRUCTIONS, ["--build-arg", "FLAVOR=spicy"]),
    ("layers", make_layers, LAYERS, []),
    ("multistage", make_multistage, MULTISTAGE, []),
    ("multistage-target", make_multistage, MULTISTAGE, ["--target", "mid"]),
]
