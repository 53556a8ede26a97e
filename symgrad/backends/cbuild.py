"""Building generated C into a shared library, cached per user on disk.

What the cache trusts, and why, is docs/trust.md's first section: each rule there is
one function here (``_open_private``, ``_check_component``, ``_safe_file``, ``_evict``).
Libraries are built under a temporary name and moved into place with ``os.replace``.
"""

import contextlib
import errno
import functools
import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..core.errors import SymgradError

# -ffp-contract=off: no fused multiply-add, so results match Python's to the bit.
# Never -ffast-math: it would break inf, nan and the order of operations.
# -funroll-loops changes no result; compiled losses' short loops over a layer's
# rows run about 1.4x faster with it (benchmarks/bench_c_loss.py).
FLAGS = ("-std=c99", "-O2", "-funroll-loops", "-fPIC", "-shared", "-ffp-contract=off")
# Compiled losses are built for this processor too (wider vectors) where the compiler
# can tell what it is; -ffp-contract=off keeps their results the same to the bit.
NATIVE_FLAGS = ("-march=native",)
INSTALL_HINT = ("install one (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc; "
                "macOS: xcode-select --install) or set CC to its path")
# GCC's time grows superlinearly with a function's length, at -O1 too (12,000 operations:
# 30 s at -O2, 20 s at -O1, 1.7 s at -O0; a 9,000-line chain of sin 5.9 s at -O2, 0.4 s at
# -O0), so longer sources are built at -O0 where each line runs once a call (scalar
# functions), at -O1 where loops run it many times (losses).  No flag changes a result.
LARGE_SOURCE = 5_000
TIMEOUT = 300.0  # seconds the compiler may take; SYMGRAD_CC_TIMEOUT changes it
# The cache keeps at most this many libraries and bytes: the least recently used go.
MAX_FILES = 1_000
MAX_BYTES = 256 * 2**20
STALE_SECONDS = 3600  # a temporary file this old is left over from a build that died
_PROC_FD = "/proc/self/fd"
# Checked cache directories' handles, kept open for the process: names hold a hash of
# the code, so a name under a handle always means the same library.
_HANDLES = {}
_HANDLES_LOCK = threading.Lock()


class CompilerError(SymgradError):
    """No usable C compiler, an unsafe cache directory, or code the compiler refused."""


def compiler():
    """The compiler command as a list: ``$CC`` if set, else ``cc``; CompilerError if missing."""
    wanted = os.environ.get("CC") or "cc"
    try:
        words = shlex.split(wanted)
    except ValueError as error:
        raise CompilerError(f"CC={wanted!r} is not a command line ({error}): set CC to the "
                            "path of a C compiler") from None
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
    except (OSError, subprocess.TimeoutExpired) as error:
        reason = getattr(error, "strerror", None) or "no answer to --version in 60 s"
        raise CompilerError(f"cannot run the C compiler {command[0]}: {reason}: "
                            f"{INSTALL_HINT}") from None
    return done.stdout.strip() or done.stderr.strip()


@functools.lru_cache(maxsize=None)
def native_target(command):
    """What ``-march=native`` means to this compiler here, or None where it refuses the flag.

    The compiler's own expansion (``-###``: GCC's ``-march=icelake-client -mavx2 ...``,
    Clang's ``-target-cpu``) is part of the cache key: a library per processor.
    """
    try:
        done = subprocess.run([*command, *NATIVE_FLAGS, "-###", "-x", "c", "-c", os.devnull,
                               "-o", os.devnull], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):  # no answer in 60 s: the portable build
        return None
    if done.returncode != 0:
        return None
    lines = (done.stderr + done.stdout).splitlines()
    chosen = [line for line in lines if "-march=" in line or "-target-cpu" in line] or lines
    words = " ".join(chosen).replace('"', " ").split()
    return " ".join(word for word in words if "/" not in word)  # no paths: temporary names


def cache_dir():
    """The C backend's cache directory, created 0700 where missing and checked."""
    return _cache()[0]


def _cache():
    """``(path, fd)`` of the checked cache, ``$XDG_CACHE_HOME/symgrad/c`` (if absolute)
    or ``~/.cache/symgrad/c``; the fd stays open."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    path = (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "symgrad" / "c"
    with _HANDLES_LOCK:
        fd = _HANDLES.get(path)
        if fd is None or not _still_at(fd, path):  # new, or removed or replaced since
            fd = _HANDLES[path] = _open_private(path)
    _check_component(fd, path, mine=True)
    return path, fd


def _still_at(fd, path):
    """Whether ``path`` names the directory ``fd`` holds."""
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open_private(path):
    """A directory fd of ``path``, each component opened without following links and
    checked: whoever else can write one could swap what lies below."""
    start = os.path.realpath(path.parent.parent)  # the user's own choice may hold links
    parts = [*Path(start).parts[1:], path.parent.name, path.name]
    fd, shown = os.open("/", os.O_RDONLY | os.O_DIRECTORY), Path("/")
    try:
        for depth, part in enumerate(parts):
            shown = shown / part
            child = _open_component(fd, part, shown)
            os.close(fd)
            fd = child
            _check_component(fd, shown, mine=depth >= len(parts) - 2)  # symgrad/ and c/
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_component(parent, name, shown):
    """Open the directory ``name`` under the fd ``parent``, making it 0700 if missing."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        try:
            return os.open(name, flags, dir_fd=parent)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent)  # the umask can only take bits away
            return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        problem = ("it is a symbolic link" if error.errno == errno.ELOOP or _is_link(parent, name)
                   else "it is not a directory" if error.errno == errno.ENOTDIR
                   else error.strerror)
        raise _refused(shown, problem) from None


def _is_link(parent, name):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _check_component(fd, shown, mine):
    """Refuse the opened directory ``shown`` if someone else could change what it holds
    (with ``mine``, root's will not do either)."""
    info = os.fstat(fd)
    if info.st_uid not in ((os.getuid(),) if mine else (os.getuid(), 0)):
        raise _refused(shown, "it belongs to another user")
    if info.st_mode & 0o022 and (mine or not info.st_mode & stat.S_ISVTX):
        raise _refused(shown, "other users can write to it")


def _refused(path, problem):
    return CompilerError(f"refusing the C backend's cache {path}: {problem} (fix or remove it, "
                         "or set XDG_CACHE_HOME to a directory of your own)")


def _safe_file(directory, fd, name):
    """Whether ``name`` in the cache is a regular file of ours that only we can write;
    never follows a link, nor waits on a FIFO planted at the name."""
    try:
        file = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise CompilerError(f"refusing the cached library {directory / name}: {error.strerror} "
                            "(a symbolic link or an unreadable file); remove it") from None
    try:
        info = os.fstat(file)
    finally:
        os.close(file)
    if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022 or info.st_uid != os.getuid():
        raise CompilerError(f"refusing the cached library {directory / name}: not a regular "
                            "file of yours that only you can write; remove it")
    return True


def build(source, native=False):
    """The path of a shared library compiled from ``source``: cached, else built now; with
    ``native`` (compiled losses, whose loops run many times), for this machine's processor
    where the compiler supports it."""
    if native:
        target = native_target(tuple(compiler()))
        if target is not None:
            try:
                return _build(source, target, loops=True)
            except CompilerError:  # e.g. an assembler older than this processor's instructions
                pass
    return _build(source, loops=native)


def load(source, open_library, native=False):
    """``open_library`` (``ctypes.CDLL``) of ``source``'s library; rebuilt if it won't load."""
    path = build(source, native)
    try:
        return open_library(path)
    except OSError:
        os.unlink(path)
        return open_library(build(source, native))


def _build(source, processor="", loops=False):
    """Compile ``source`` into ``<key>.so`` in the cache, once; for ``processor`` (what
    ``-march=native`` means here, part of the key), with NATIVE_FLAGS."""
    command = compiler()
    flags = _sized(FLAGS + (NATIVE_FLAGS if processor else ()), source, loops)
    parts = [version(tuple(command)), " ".join(flags), ".so", source]  # ".so": keys as before
    parts += [f"CC {word}" for word in command[1:]]  # CC="cc -O0": its words, not --version's
    if processor:
        parts.append(processor)
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]
    directory, fd = _cache()
    base = f"{_PROC_FD}/{fd}" if os.path.isdir(_PROC_FD) else str(directory)
    name = f"{key}.so"
    if _safe_file(directory, fd, name):
        with contextlib.suppress(OSError):  # a cache on a read-only file system still serves
            os.utime(name, dir_fd=fd, follow_symlinks=False)  # used now: evicted last
        return f"{base}/{name}"
    stem = f".build-{os.getpid()}-{threading.get_ident()}-{key}"
    c_name, so_name = stem + ".c", stem + ".so"
    try:
        file = os.open(c_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                       dir_fd=fd)
        with os.fdopen(file, "w", encoding="utf-8") as stream:
            stream.write(source)
        _compile([*command, *flags, "-o", f"{base}/{so_name}", f"{base}/{c_name}", "-lm"],
                 fd, source)
        try:
            os.chmod(so_name, 0o700, dir_fd=fd)  # whatever the umask
        except FileNotFoundError:
            raise CompilerError(f"the C compiler {command[0]} (from CC, or cc) reported success "
                                "but wrote no library: set CC to a C compiler such as gcc"
                                ) from None
        _safe_file(directory, fd, so_name)
        os.replace(so_name, name, src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        _remove(fd, c_name)
        _remove(fd, so_name)
    _safe_file(directory, fd, name)
    _evict(fd, keep=name)
    return f"{base}/{name}"


def _sized(flags, source, loops=False):
    """``flags`` with -O2 lowered, for a source of more than LARGE_SOURCE lines, to -O1
    where ``loops`` run its lines many times, else to -O0."""
    if source.count("\n") <= LARGE_SOURCE:
        return flags
    lower = "-O1" if loops else "-O0"
    return tuple(lower if flag == "-O2" else flag for flag in flags)


def _compile(arguments, fd, source):
    """Run the compiler (it reaches the cache through ``fd``); CompilerError if it fails or
    passes the time limit, which stops its process group: cc1, as and ld too."""
    try:  # SYMGRAD_CC_TIMEOUT, where it is a positive number
        limit = float(os.environ.get("SYMGRAD_CC_TIMEOUT", TIMEOUT))
    except ValueError:
        limit = TIMEOUT
    limit, lines = limit if limit > 0 else TIMEOUT, source.count("\n")
    if lines > LARGE_SOURCE and sys.stderr is not None and sys.stderr.isatty():
        print(f"symgrad: compiling {lines:,} lines of C (may take a minute; "
              f"time limit {limit:g} s)...", file=sys.stderr, flush=True)
    try:
        process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, pass_fds=(fd,), start_new_session=True)
    except OSError as error:
        raise CompilerError(f"cannot run the C compiler {arguments[0]}: {error.strerror}: "
                            f"{INSTALL_HINT}") from None
    try:
        out, err = process.communicate(timeout=limit)
    except BaseException as error:
        try:
            os.killpg(process.pid, 9)  # the compiler and everything it started
        except OSError:
            process.kill()
        process.communicate()
        if isinstance(error, subprocess.TimeoutExpired):
            raise CompilerError(
                f"the C compiler took more than {limit:g} s on {lines:,} lines of generated C; "
                "use backend='numpy' for a program this large, or set SYMGRAD_CC_TIMEOUT to "
                "allow more seconds") from None
        raise
    if process.returncode != 0:
        detail = (err or out).strip().splitlines()[-20:]
        raise CompilerError("the C compiler refused the generated code (a symgrad bug; "
                            "please report it):\n" + "\n".join(detail))


def _evict(fd, keep):
    """Remove the least recently used libraries beyond MAX_FILES or MAX_BYTES."""
    now = time.time()
    libraries = []
    for entry in os.scandir(fd):
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # renamed or removed by another build meanwhile
            continue
        if entry.name.startswith(".build-"):
            if now - info.st_mtime > STALE_SECONDS:
                _remove(fd, entry.name)
        elif entry.name != keep and stat.S_ISREG(info.st_mode):
            libraries.append((info.st_mtime, entry.name, info.st_size))
    libraries.sort()
    count = len(libraries) + 1
    size = sum(entry[2] for entry in libraries)
    for _, name, bytes_ in libraries:
        if count <= MAX_FILES and size <= MAX_BYTES:
            break
        _remove(fd, name)  # a process that loaded it keeps its mapping
        count, size = count - 1, size - bytes_


def _remove(fd, name):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=fd)


def clear_cache():
    """Remove every file of the C backend's cache; returns how many were removed."""
    _, fd = _cache()
    names = [entry.name for entry in os.scandir(fd) if not entry.is_dir(follow_symlinks=False)]
    for name in names:
        _remove(fd, name)
    return len(names)
