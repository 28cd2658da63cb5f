#!/usr/bin/env python3
"""Derives the Amazon Linux runtime manifests (provided.al2023, provided.al2) from real data.

Run from the project root with the shared fixtures beside it and Debian's rpm installed:
    python3 registry/runtimes/derive/amazon-linux.py ../shared/fixtures [OUTDIR]
(OUTDIR defaults to registry/runtimes; test/unit/registry.test.ts checks the output is unchanged).

provided.al2 -- real Lambda: lambci/docker-lambda's dump of Lambda's own provided.al2 environment
(rpm -qa of its rpmdb, and its file list). Names and versions only: rpm -qa prints no epoch and the
dump has no rpm headers, so yumda reads each package's provides from the repositories at build time.

Symbol versions (what a shipped program's `version 'GLIBC_2.38' not found` check reads): rpm's
find-provides turns each library's version definitions (DT_VERDEF) into provides such as
`libc.so.6(GLIBC_2.34)(64bit)`, so provided.al2023's are read from its packages' provides in the
amazonlinux:2023 rpmdb (glibc 2.34, libgcc 11). provided.al2 has no provides in its dump: its
versions are those of the same rpmdb's glibc, libgcc and libstdc++ that AL2's releases already
defined -- glibc 2.26 (GLIBC_* up to 2.26), GCC 7.3.1's libgcc_s (GCC_* up to 7.0.0) and
libstdc++ (GLIBCXX_* up to 3.4.24, CXXABI_* up to 1.3.11, and CXXABI_TM_1), per GCC's ABI policy
table -- since neither library ever drops a version it once defined.

provided.al2023 -- conservative. Lambda's provided.al2023 is built on the AL2023 *minimal* container
image (AWS: docs.aws.amazon.com/linux/al2023/ug/lambda.html), and the only rpm database at hand is
the larger amazonlinux:2023 image's. A package is listed only when AWS says the minimal container
image has it -- the packages its release notes list under "Minimal container image" (2023.2.20230920,
2023.5.20240805, 2023.6.20250303) -- or when one of those requires it: an rpm installation is
closed under its requirements, so what they require (resolved in the amazonlinux:2023 image's
database, following only requirements with a single possible provider) is there too. Versions and
provides are those of the amazonlinux:2023 image (release 2023.1.20230825); Lambda's are newer.
Everything else in that image is left out: shipping a package the runtime turns out to have costs
bytes, leaving out one it lacks breaks the layer.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

LAMBDA_ENV = {
    "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
}
LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/var/lang/lib/", "/var/runtime/lib/")

# "Minimal container image" sections of the AL2023 release notes (github.com/awsdocs, see above).
MINIMAL_CONTAINER = [
    "amazon-linux-repo-cdn", "ca-certificates", "glib2", "glibc", "glibc-common", "glibc-minimal-langpack",
    "keyutils-libs", "krb5-libs", "libffi", "libgcrypt", "openssl-libs", "p11-kit", "p11-kit-trust", "system-release",
]
# Named there too, but not in the amazonlinux:2023 2023.1 image (version from the 2023.2.20230920 notes).
MINIMAL_CONTAINER_EXTRA = [{"name": "gobject-introspection", "version": "1.73.0-2.amzn2023.0.3", "arch": "x86_64"}]


# the C and C++ runtime's version names (src/check/versions.ts RUNTIME_VERSION)
RUNTIME_VERSION = ("GLIBC_", "GLIBCXX_", "CXXABI_", "GCC_")
# what Lambda's AL2 had of them: glibc 2.26, gcc 7.3.1 (lambda-provided-al2/packages.txt)
AL2_NEWEST = {"GLIBC": (2, 26), "GCC": (7, 0, 0), "GLIBCXX": (3, 4, 24), "CXXABI": (1, 3, 11)}
AL2_UNNUMBERED = {"CXXABI_TM_1"}


def version_key(v):
    prefix, _, num = v.rpartition("_")
    parts = tuple(int(x) for x in num.split(".")) if num.replace(".", "").isdigit() else None
    return (prefix, 0, parts) if parts is not None else (v, 1, ())


def symbol_versions(provides, keep=lambda soname, version: True):
    """`libc.so.6(GLIBC_2.34)(64bit)` provides as runtime manifest symbolVersions entries."""
    by = {}
    for p in provides:
        name = p.split(" ")[0]
        if "(" not in name or not name.endswith(")(64bit)"):
            continue
        soname, _, rest = name.partition("(")
        version = rest[: -len(")(64bit)")]
        if version.startswith(RUNTIME_VERSION) and keep(soname, version):
            by.setdefault(soname, set()).add(version)
    return [{"soname": so, "versions": sorted(v, key=version_key)} for so, v in sorted(by.items())]


def al2_has(version):
    prefix, _, num = version.rpartition("_")
    if not num.replace(".", "").isdigit():
        return version in AL2_UNNUMBERED
    return prefix in AL2_NEWEST and tuple(int(x) for x in num.split(".")) <= AL2_NEWEST[prefix]


def rpmq(db, *args):
    return subprocess.run(["rpm", "--dbpath", db, "-q", *args], check=True, capture_output=True, text=True).stdout


def library_names(paths):
    out = set()
    for p in paths:
        p = p.strip()
        if not p.startswith("/"):
            p = "/" + p
        base = os.path.basename(p.rstrip("/"))
        if ".so" in base and any(p.startswith(d) and p.count("/") <= d.count("/") + 1 for d in LIB_DIRS):
            out.add(base)
    return sorted(out)


def al2023(fixtures):
    tmp = tempfile.mkdtemp()
    shutil.copy(os.path.join(fixtures, "amazonlinux2023-image/rpmdb.sqlite"), tmp)
    fmt = "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n"
    info = {}
    for line in rpmq(tmp, "-a", "--qf", fmt).splitlines():
        name, evr, arch, src = line.split("\t")
        if name.startswith("gpg-pubkey"):
            continue
        info[name] = {"name": name, "version": evr, "arch": arch, "source": src.rsplit("-", 2)[0]}
    provides = {n: sorted(set(rpmq(tmp, "--qf", "[%{PROVIDENEVRS}\n]", n).split("\n")) - {""}) for n in info}
    requires = {n: sorted(set(rpmq(tmp, "--qf", "[%{REQUIRES}\n]", n).split("\n")) - {""}) for n in info}
    files = {n: rpmq(tmp, "-l", n).splitlines() for n in info}

    def providers(dep):
        name = dep.split(" ")[0]
        if dep.startswith("rpmlib(") or dep.startswith("("):
            return None
        if name.startswith("/"):
            return sorted(n for n in info if name in files[n])
        return sorted(n for n in info if n == name or any(p.split(" ")[0] == name for p in provides[n]))

    keep = set()
    queue = [n for n in MINIMAL_CONTAINER if n in info]
    while queue:
        n = queue.pop()
        if n in keep:
            continue
        keep.add(n)
        for dep in requires[n]:
            ps = providers(dep)
            if ps and len(ps) == 1:
                queue.append(ps[0])
    shutil.rmtree(tmp)
    pkgs = []
    for n in sorted(keep):
        p = dict(info[n])
        if p["source"] == n:
            del p["source"]
        p["provides"] = provides[n]
        pkgs.append(p)
    pkgs += MINIMAL_CONTAINER_EXTRA
    libs = library_names(f for n in keep for f in files[n])
    left_out = sorted(set(info) - keep)
    versions = symbol_versions(p for n in keep for p in provides[n])
    # AL2's C and C++ runtime: the same libraries' versions that glibc 2.26 and gcc 7.3.1 defined
    al2_versions = symbol_versions((p for n in ("glibc", "libgcc", "libstdc++") if n in provides for p in provides[n]), lambda so, v: al2_has(v))
    return pkgs, libs, left_out, versions, al2_versions


def al2(fixtures):
    pkgs = []
    with open(os.path.join(fixtures, "lambda-provided-al2/packages.txt")) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rest, arch = line.rsplit(".", 1)
            name, version, release = rest.rsplit("-", 2)
            pkgs.append({"name": name, "version": f"{version}-{release}", "arch": arch})
    with open(os.path.join(fixtures, "lambda-provided-al2/fs.txt")) as f:
        libs = library_names(f)
    return sorted(pkgs, key=lambda p: p["name"]), libs


def write(path, doc):
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    pkgs, libs, left_out, versions, al2_versions = al2023(fixtures)
    write(os.path.join(out, "provided.al2023.json"), {
        "$schema": "../../schema/runtime.schema.json",
        "id": "provided.al2023",
        "description": "Lambda's Amazon Linux 2023 runtimes: provided.al2023 and the language runtimes built on it (nodejs20.x and later, python3.12 and later, java21 and later)",
        "image": "public.ecr.aws/lambda/provided:al2023",
        "family": "rpm",
        "lambda": LAMBDA_ENV,
        "shell": "/bin/sh",
        "provenance": {
            "source": ("amazonlinux:2023 image rpmdb 2023.1.20230825 (knqyf263/go-rpmdb pkg/testdata/amazonlinux2023-plain @ cee58d9ad1845b6f3012942e4def91d6e62eed46), "
                       "restricted to the AL2023 minimal container image that provided.al2023 is built on"),
            "method": ("python3 registry/runtimes/derive/amazon-linux.py ../shared/fixtures "
                       "(or, with the real image: yumda runtime refresh public.ecr.aws/lambda/provided:al2023 --runtime provided.al2023)"),
            "date": "2026-11-27",
            "note": ("Conservative: only packages the AL2023 release notes list under 'Minimal container image' (2023.2.20230920, "
                     "2023.5.20240805, 2023.6.20250303) and what those require, resolved in the amazonlinux:2023 rpmdb. "
                     "Versions are that image's, older than Lambda's. Left out although amazonlinux:2023 has them (not known to be in Lambda): "
                     + ", ".join(left_out)),
        },
        "packages": pkgs,
        "libraries": libs,
        "symbolVersions": versions,
    })
    pkgs, libs = al2(fixtures)
    write(os.path.join(out, "provided.al2.json"), {
        "$schema": "../../schema/runtime.schema.json",
        "id": "provided.al2",
        "description": "Lambda's Amazon Linux 2 runtimes: provided.al2 and the language runtimes built on it (nodejs18.x, python3.9 to 3.11, java8.al2 to java17)",
        "image": "public.ecr.aws/lambda/provided:al2",
        "family": "rpm",
        "lambda": LAMBDA_ENV,
        "shell": "/bin/sh",
        "provenance": {
            "source": ("Lambda's own provided.al2 environment, dumped in 2020 "
                       "(lambci/docker-lambda base/base-2 @ de9a2bf5b73f6330fff10e0203f94b9f6f784ab6: packages.txt, fs.txt)"),
            "method": ("python3 registry/runtimes/derive/amazon-linux.py ../shared/fixtures "
                       "(or, with the real image: yumda runtime refresh public.ecr.aws/lambda/provided:al2 --runtime provided.al2)"),
            "date": "2026-11-27",
            "note": ("rpm -qa output: names, versions and releases without epochs or provides; "
                     "yumda reads each package's provides (and epoch) from the repositories at build time. All AL2 runtimes share this base. "
                     "symbolVersions: not in the dump; the versions the amazonlinux:2023 rpmdb's glibc, libgcc and libstdc++ provide "
                     "that glibc 2.26 and gcc 7.3.1 already defined (see the derivation script)"),
        },
        "packages": pkgs,
        "libraries": libs,
        "symbolVersions": [s for s in al2_versions if s["soname"] in libs],
    })


if __name__ == "__main__":
    main()
