"""Building generated C into a shared library or a CPython extension, cached per user on disk.

The file's name is a sha256 of the source, the compiler's version and the
flags (for an extension, also Python's extension suffix, which names its ABI),
so a cached file is only ever reused for the same code.  The cache
directory is created 0700 and refused unless it is the user's own and nobody
else can write to it; files are written under a temporary name and moved into
place with ``os.replace`` (safe when several processes build at once), and
opened with ``O_NOFOLLOW``.  Nothing is ever unpickled.
"""

import functools
import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from ..core.errors import SymgradError

# -ffp-contract=off: no fused multiply-add, so results match Python's to the bit.
# Never -ffast-math: it would break inf, nan and the order of operations.
# -funroll-loops changes no result; compiled losses' short loops over a layer's
# rows run about 1.4x faster with it (benchmarks/bench_c_loss.py).
FLAGS = ("-std=c99", "-O2", "-funroll-loops", "-fPIC", "-shared", "-ffp-contract=off")
# Compiled losses are built for this machine's processor as well (AVX and its successors:
# wider vectors), where the compiler can tell what it is; -ffp-contract=off above keeps
# them from fusing a multiply and an add, so results stay the same to the bit.
NATIVE_FLAGS = ("-march=native",)
# A batch's fast build (see ``c``): SYMGRAD_VECTOR_MATH turns on its vector lines.
# -fopenmp-simd honours their ``#pragma omp`` lines and nothing else of OpenMP (no
# runtime, no threads).  -fno-math-errno: <math.h> calls need not set errno, which
# symgrad never reads; then GCC may vectorise them (and writes pow(x, 2.0) as x*x).
# -fno-builtin-sin/-cos: else GCC joins sin(x) and cos(x), as in sin's derivative,
# into one sincos call, which has no vector form.  -fno-tree-pre, -fno-thread-jumps:
# else GCC turns the choices of relu and step back into branches (moving relu's
# gradient into them, or joining two of them), and a loop with branches does not
# vectorise without AVX-512.  -z defs: a vector function the C library lacks fails
# the link, not the load, so the build falls back to the exact one.
VECTOR_FLAGS = FLAGS + ("-fno-math-errno", "-fopenmp-simd", "-fno-builtin-sin",
                        "-fno-builtin-cos", "-fno-tree-pre", "-fno-thread-jumps",
                        "-DSYMGRAD_VECTOR_MATH", "-Wl,-z,defs")
# An extension includes Python.h after the program (see c_ext), so its headers need
# POSIX declared from the start; that adds no macro a user's name could meet.
EXTENSION_FLAGS = ("-D_POSIX_C_SOURCE=200809L",) + (
    ("-undefined", "dynamic_lookup") if sys.platform == "darwin" else ())
INSTALL_HINT = ("install one (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc; "
                "macOS: xcode-select --install) or set CC to its path")


class CompilerError(SymgradError):
    """No usable C compiler, an unsafe cache directory, or code the compiler refused."""


def compiler():
    """The compiler command as a list: ``$CC`` if set, else ``cc``; CompilerError if missing."""
    wanted = os.environ.get("CC") or "cc"
    words = shlex.split(wanted)
    found = shutil.which(words[0]) if words else None
    if found is None:
        raise CompilerError(f"the C backend needs a C compiler, and {wanted!r} was not found"
                            f"{' (from CC)' if os.environ.get('CC') else ''}: {INSTALL_HINT}")
    return [found] + words[1:]


@functools.lru_cache(maxsize=None)
def version(command):
    """The compiler's ``--version`` text: part of the cache key."""
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              timeout=60)
    except OSError as error:
        raise CompilerError(f"cannot run the C compiler {command[0]}: {error.strerror}: "
                            f"{INSTALL_HINT}") from None
    return done.stdout.strip() or done.stderr.strip()


def cache_dir():
    """``$XDG_CACHE_HOME/symgrad/c`` (if absolute) or ``~/.cache/symgrad/c``, checked."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    path = root / "symgrad" / "c"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError as error:
        raise CompilerError(f"cannot create the C backend's cache {path}: "
                            f"{error.strerror}") from None
    problem = (
        "it is a symbolic link" if stat.S_ISLNK(info.st_mode)
        else "it is not a directory" if not stat.S_ISDIR(info.st_mode)
        else "it belongs to another user" if hasattr(os, "getuid") and info.st_uid != os.getuid()
        else "other users can write to it" if info.st_mode & 0o022
        else None)
    if problem:
        raise CompilerError(f"refusing the C backend's cache {path}: {problem} (remove it, or "
                            "set XDG_CACHE_HOME to another directory)")
    return path


def _safe_file(path):
    """Whether ``path`` is a regular file of ours that only we can write; never follows a link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    except OSError as error:
        raise CompilerError(f"refusing the cached library {path}: {error.strerror} (a symbolic "
                            "link or an unreadable file); remove it") from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if (not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022
            or (hasattr(os, "getuid") and info.st_uid != os.getuid())):
        raise CompilerError(f"refusing the cached library {path}: not a regular file of yours "
                            "that only you can write; remove it")
    return True


def python_headers():
    """The directory holding ``Python.h``, or None where Python's headers are not installed."""
    include = sysconfig.get_paths().get("include")
    return include if include and os.path.isfile(os.path.join(include, "Python.h")) else None


@functools.lru_cache(maxsize=None)
def native_target(command):
    """What ``-march=native`` means to this compiler here (part of the cache key), or None.

    The compiler's own expansion (``-###``: GCC's ``-march=icelake-client -mavx2 ...``,
    Clang's ``-target-cpu``): a cache shared by two machines keeps a library per
    processor.  None where the compiler refuses the flag.
    """
    try:
        done = subprocess.run([*command, *NATIVE_FLAGS, "-###", "-x", "c", "-c", os.devnull,
                               "-o", os.devnull], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    lines = (done.stderr + done.stdout).splitlines()
    chosen = [line for line in lines if "-march=" in line or "-target-cpu" in line] or lines
    words = " ".join(chosen).replace('"', " ").split()
    return " ".join(word for word in words if "/" not in word)  # no paths: temporary names


def build(source, flags=FLAGS, native=False):
    """The path of a shared library compiled from ``source``: cached, else built now.

    With ``native``, for this machine's processor where the compiler supports it.
    """
    if native:
        target = native_target(tuple(compiler()))
        if target is not None:
            try:
                return _build(source, flags + NATIVE_FLAGS, ".so", lambda key: (), target)
            except CompilerError:  # e.g. an assembler older than this processor's instructions
                pass
    return _build(source, flags, ".so", lambda key: ())


def build_extension(source, headers):
    """``(path, module name)`` of ``source`` built as a CPython extension with ``headers``.

    The build defines ``SYMGRAD_MODULE`` as the module's name, ``symgrad_`` and the
    hash: a unique ``PyInit_`` function per module.
    """
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    flags = FLAGS + EXTENSION_FLAGS + ("-I", headers)
    path = _build(source, flags, suffix, lambda key: (f"-DSYMGRAD_MODULE=symgrad_{key}",))
    return path, "symgrad_" + os.path.basename(path)[:-len(suffix)]


def _build(source, flags, suffix, defines, processor=""):
    """Compile ``source`` with ``flags`` and ``defines(key)`` into ``<key><suffix>``, once.

    The key hashes the compiler's version, the flags, the suffix, the source and
    ``processor`` (what ``-march=native`` means here, for a build with it).
    """
    command = compiler()
    parts = [version(tuple(command)), " ".join(flags), suffix, source]
    if processor:
        parts.append(processor)
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]
    directory = cache_dir()
    target = directory / f"{key}{suffix}"
    if _safe_file(target):
        return str(target)
    fd, c_path = tempfile.mkstemp(suffix=".c", prefix=".build-", dir=directory)
    so_path = c_path[:-2] + suffix
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(source)
        done = subprocess.run([*command, *flags, *defines(key), "-o", so_path, c_path, "-lm"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-20:]
            raise CompilerError("the C compiler refused the generated code (a symgrad bug; "
                                "please report it):\n" + "\n".join(detail))
        os.chmod(so_path, 0o700)
        os.replace(so_path, target)
    finally:
        for leftover in (c_path, so_path):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
    _safe_file(target)
    return str(target)
