"""Check built wheels before they are shipped: run as `python scripts/wheel_check.py dist/*.whl`.

For each wheel:
- `auditwheel show` must find its symbols consistent with the platform tag in its file name
  (manylinux_2_17 for a manylinux2014 wheel, musllinux_1_2) and no external shared library
  outside the policy;
- the extension module may link only the C runtime's own libraries (the wheel bundles nothing and
  needs no OpenSSL, libpq or libstdc++ on the host);
- the wheel must carry both license texts.

musllinux wheels, linked by zig, name the C library `libc.so` where Alpine's toolchain writes
`libc.musl-x86_64.so.1`, the name auditwheel's policy expects. musl's dynamic loader resolves every
`libc.*` name to itself, so instead of accepting auditwheel's verdict on that one library, the
check asks musl's loader (Debian's `musl` package) to load the module: only Python's own C API
may be left unresolved (the interpreter provides it).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

# What the extension module may load: the C runtime and its split-out parts.
ALLOWED_NEEDED = {
    "manylinux": {
        "libc.so.6",
        "libm.so.6",
        "libgcc_s.so.1",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "ld-linux-x86-64.so.2",
    },
    "musllinux": {"libc.so"},
}
LICENSES = {"LICENSE-MIT", "LICENSE-APACHE"}
# The PEP 600/656 tag among a wheel's platform tags (manylinux2014_x86_64.manylinux_2_17_x86_64).
TAG = re.compile(r"^(?:many|musl)linux_\d+_\d+_x86_64$")
MUSL_LOADER = Path("/lib/ld-musl-x86_64.so.1")
MUSL_LIBDIR = "/lib/x86_64-linux-musl"
UNRESOLVED = re.compile(r"Error relocating [^:]+: ([^:]+): symbol not found")
PYTHON_API = re.compile(r"_?Py")


def fail(message: str) -> None:
    print(f"wheel check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def needed_libraries(data: bytes) -> list[str]:
    elf = ELFFile(BytesIO(data))
    needed: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            needed += [tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
    return needed


def auditwheel(wheel: Path, *options: str) -> dict[str, object]:
    show = [sys.executable, "-m", "auditwheel", "show", "--json", *options, str(wheel)]
    result = subprocess.run(show, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        fail(f"auditwheel show exited {result.returncode}: {result.stdout}{result.stderr}")
    report: dict[str, object] = json.loads(result.stdout)
    print(f"auditwheel: symbols consistent with {report['sym_tag']}, overall {report['overall_tag']}")
    print(f"  versioned symbols: {report['versioned_symbols']}")
    print(f"  external libraries: {report['external_libs']}")
    return report


def check_with_musl_loader(module: bytes) -> None:
    """Load the module with musl's loader (ldd mode): its libraries must resolve, and only Python's
    C API may be missing."""
    if not MUSL_LOADER.exists():
        fail(f"{MUSL_LOADER} not found: install musl (apt-get install musl) to check musllinux wheels")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "_core.abi3.so"
        path.write_bytes(module)
        listing = subprocess.run([MUSL_LOADER, "--list", path], capture_output=True, text=True, check=False)
    errors = [line for line in (listing.stdout + listing.stderr).splitlines() if line.startswith("Error")]
    python_api = [
        match.group(1) for line in errors if (match := UNRESOLVED.match(line)) and PYTHON_API.match(match.group(1))
    ]
    if foreign := [line for line in errors if not any(symbol in line for symbol in python_api)]:
        fail(f"musl's loader cannot load the module: {foreign}")
    if "libc.so => /lib/ld-musl-x86_64.so.1" not in listing.stdout:
        fail(f"libc.so does not resolve to musl: {listing.stdout}")
    print(f"musl loader: libc.so resolves to musl; unresolved only Python's C API ({len(python_api)} symbols)")


def check(wheel: Path) -> None:
    print(f"--- {wheel.name}")
    _, _, python_tag, abi_tag, platform_tags = wheel.name.removesuffix(".whl").split("-")
    tags = [tag for tag in platform_tags.split(".") if TAG.match(tag)]
    if (python_tag, abi_tag) != ("cp310", "abi3") or len(tags) != 1:
        fail(f"{wheel.name}: not a cp310-abi3 manylinux/musllinux x86_64 wheel")
    expected = tags[0]
    family = "musllinux" if expected.startswith("musllinux") else "manylinux"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        modules = [name for name in names if name.startswith("anclax_fast/_core") and name.endswith(".so")]
        if len(modules) != 1:
            fail(f"expected one extension module, found {modules}")
        module = archive.read(modules[0])
        licenses = {Path(name).name for name in names if ".dist-info/licenses/" in name}
    needed = needed_libraries(module)
    print(f"{modules[0]} needs: {', '.join(needed)}")
    if unexpected := sorted(set(needed) - ALLOWED_NEEDED[family]):
        fail(f"unexpected shared libraries needed: {unexpected}")
    if family == "manylinux":
        report = auditwheel(wheel)
        if report["overall_tag"] != expected or report["external_libs"]:
            fail(f"auditwheel does not find {wheel.name} consistent with {expected}")
    else:
        report = auditwheel(wheel, "--ldpaths", MUSL_LIBDIR)
        external = report["external_libs"]
        if report["sym_tag"] != expected or not isinstance(external, dict) or set(external) - {"libc.so"}:
            fail(f"auditwheel does not find {wheel.name} consistent with {expected}")
        check_with_musl_loader(module)
    if not licenses >= LICENSES:
        fail(f"license files missing from the wheel: {sorted(LICENSES - licenses)}")
    print(f"ok: {expected}, no unexpected shared library, license files {sorted(licenses)}")


def main() -> None:
    wheels = [Path(arg) for arg in sys.argv[1:]]
    if not wheels:
        fail("no wheel given")
    for wheel in wheels:
        check(wheel)


if __name__ == "__main__":
    main()
