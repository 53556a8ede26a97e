"""Building generated C into a shared library, cached per user on disk.

The file's name is a sha256 of the source, the compiler's version and the
flags, so a cached file is only ever reused for the same code.  Trust: every
directory from / down to the cache must be the user's or root's and writable
by nobody else (a sticky directory such as /tmp aside); what symgrad creates
is 0700 whatever the umask.  The cache directory is opened once, component by
component without following links, and libraries are written, checked and
loaded through that handle (``/proc/self/fd/N/<key>.so``), so nothing can be
swapped between the check and the load.  Files are written under a temporary
name and moved into place with ``os.replace`` (safe when several processes
build at once), opened with ``O_NOFOLLOW | O_NONBLOCK`` and refused unless
they are regular files of the user.  The least recently used libraries go
beyond MAX_FILES or MAX_BYTES; ``clear_cache`` (``symgrad --clear-cache``)
empties it.  Nothing is ever unpickled.
"""

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
# Compiled losses are built for this machine's processor as well (AVX and its successors:
# wider vectors), where the compiler can tell what it is; -ffp-contract=off above keeps
# them from fusing a multiply and an add, so results stay the same to the bit.
NATIVE_FLAGS = ("-march=native",)
INSTALL_HINT = ("install one (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc; "
                "macOS: xcode-select --install) or set CC to its path")


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


def _cache_path():
    """``$XDG_CACHE_HOME/symgrad/c`` (if absolute) or ``~/.cache/symgrad/c``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "symgrad" / "c"


def cache_dir():
    """The C backend's cache directory, created 0700 where missing and checked."""
    return _cache()[0]


# A checked cache directory's handle, opened once and kept for the process: libraries
# are built and loaded through it (``/proc/self/fd/N/<key>.so``), so nobody can swap a
# directory between the check and the load.  Names hold the key, a hash of the code,
# so a name always means the same library.
_HANDLES = {}
_HANDLES_LOCK = threading.Lock()
_PROC_FD = "/proc/self/fd"


def _cache():
    """``(path, fd)`` of the checked cache directory; the fd stays open."""
    path = _cache_path()
    with _HANDLES_LOCK:
        fd = _HANDLES.get(path)
        if fd is not None and not _still_at(fd, path):
            fd = None  # removed or replaced since: check the new one
        if fd is None:
            fd = _HANDLES[path] = _open_private(path)
    _check_cache_mode(fd, path)
    return path, fd


def _still_at(fd, path):
    """Whether ``path`` names the directory ``fd`` holds."""
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open_private(path):
    """A directory fd of ``path``, each component opened without following links.

    Missing directories are created 0700 whatever the umask.  A component anyone
    but the user or root may write (a sticky directory such as /tmp aside) is
    refused: whoever can write it could swap what lies below.
    """
    start = os.path.realpath(path.parent.parent)  # the user's own choice may hold links
    parts = [part for part in Path(start).parts[1:]] + [path.parent.name, path.name]
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    shown = Path("/")
    try:
        for depth, part in enumerate(parts):
            shown = shown / part
            mine = depth >= len(parts) - 2  # symgrad/ and c/ must be the user's own
            child = _open_component(fd, part, shown, create=True)
            os.close(fd)
            fd = child
            _check_component(fd, shown, mine)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_component(parent, name, shown, create):
    """Open the directory ``name`` under the fd ``parent``, making it 0700 if missing."""
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)
    try:
        try:
            return os.open(name, flags, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(name, 0o700, dir_fd=parent)  # the umask can only take bits away
            except FileExistsError:
                pass
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
    """Refuse the opened directory ``shown`` if someone else could change what it holds."""
    info = os.fstat(fd)
    uid = os.getuid() if hasattr(os, "getuid") else None
    owners = (uid,) if mine else (uid, 0)
    problem = (
        "it belongs to another user" if uid is not None and info.st_uid not in owners
        else "other users can write to it" if info.st_mode & 0o022
        and (mine or not info.st_mode & stat.S_ISVTX)
        else None)
    if problem:
        raise _refused(shown, problem)


def _check_cache_mode(fd, path):
    """The cache directory stays the user's own and unwritable by others."""
    _check_component(fd, path, mine=True)


def _refused(path, problem):
    return CompilerError(f"refusing the C backend's cache {path}: {problem} (fix or remove it, "
                         "or set XDG_CACHE_HOME to a directory of your own)")


def _where(fd):
    """The directory of ``fd`` as a path the loader and the compiler can open."""
    return f"{_PROC_FD}/{fd}" if os.path.isdir(_PROC_FD) else None


def _safe_file(directory, fd, name):
    """Whether ``name`` in the cache is a regular file of ours that only we can write.

    Never follows a link, and never waits on a FIFO planted at the name.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        file = os.open(name, flags, dir_fd=fd)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise CompilerError(f"refusing the cached library {directory / name}: {error.strerror} "
                            "(a symbolic link or an unreadable file); remove it") from None
    try:
        info = os.fstat(file)
    finally:
        os.close(file)
    if (not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022
            or (hasattr(os, "getuid") and info.st_uid != os.getuid())):
        raise CompilerError(f"refusing the cached library {directory / name}: not a regular "
                            "file of yours that only you can write; remove it")
    return True


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
                return _build(source, flags + NATIVE_FLAGS, target)
            except CompilerError:  # e.g. an assembler older than this processor's instructions
                pass
    return _build(source, flags)


def _build(source, flags, processor=""):
    """Compile ``source`` with ``flags`` into ``<key>.so``, once.

    The key hashes the compiler's version, the flags, the source and ``processor``
    (what ``-march=native`` means here, for a build with it).  The path returned
    goes through the cache's directory handle where the system has one.
    """
    command = compiler()
    flags = _sized(flags, source)
    parts = [version(tuple(command)), " ".join(flags), ".so", source]  # ".so": keys as before
    if processor:
        parts.append(processor)
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]
    directory, fd = _cache()
    where = _where(fd)
    name = f"{key}.so"
    if _safe_file(directory, fd, name):
        _touch(fd, name)
        return f"{where}/{name}" if where else str(directory / name)
    stem = f".build-{os.getpid()}-{threading.get_ident()}-{key}"
    c_name, so_name = stem + ".c", stem + ".so"
    try:
        file = os.open(c_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                       | getattr(os, "O_NOFOLLOW", 0), 0o600, dir_fd=fd)
        with os.fdopen(file, "w", encoding="utf-8") as stream:
            stream.write(source)
        base = where or str(directory)
        _compile([*command, *flags, "-o", f"{base}/{so_name}", f"{base}/{c_name}", "-lm"],
                 fd if where else None, source)
        try:
            os.chmod(so_name, 0o700, dir_fd=fd)  # whatever the umask
        except FileNotFoundError:
            raise CompilerError(f"the C compiler {command[0]} (from CC, or cc) reported success "
                                "but wrote no library: set CC to a C compiler such as gcc"
                                ) from None
        _safe_file(directory, fd, so_name)
        os.replace(so_name, name, src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        for leftover in (c_name, so_name):
            try:
                os.unlink(leftover, dir_fd=fd)
            except FileNotFoundError:
                pass
    _safe_file(directory, fd, name)
    _evict(fd, keep=name)
    return f"{where}/{name}" if where else str(directory / name)


# Straight-line functions are compiled at -O1 above this many lines: GCC's -O2 grows
# superlinearly on them (8,000 products: 184 s at -O2), and no flag changes a result
# (-ffp-contract=off, never -ffast-math), only the speed.
LARGE_SOURCE = 20_000
# Seconds the compiler may take; ``SYMGRAD_CC_TIMEOUT`` changes it.
TIMEOUT = 300.0


def _sized(flags, source):
    """``flags`` with -O2 lowered to -O1 for a source of more than LARGE_SOURCE lines."""
    if source.count("\n") <= LARGE_SOURCE:
        return flags
    return tuple("-O1" if flag == "-O2" else flag for flag in flags)


def _timeout():
    """The compiler's time limit in seconds, from ``SYMGRAD_CC_TIMEOUT`` if it is a number."""
    try:
        limit = float(os.environ.get("SYMGRAD_CC_TIMEOUT", TIMEOUT))
    except ValueError:
        return TIMEOUT
    return limit if limit > 0 else TIMEOUT


def _compile(arguments, fd, source):
    """Run the compiler; CompilerError if it fails or takes longer than the time limit.

    The compiler runs in its own process group, so a time limit stops its
    subprocesses (cc1, as, ld) too.
    """
    limit = _timeout()
    lines = source.count("\n")
    _announce(lines)
    try:
        process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, pass_fds=(fd,) if fd is not None else (),
                                   start_new_session=True)
    except OSError as error:
        raise CompilerError(f"cannot run the C compiler {arguments[0]}: {error.strerror}: "
                            f"{INSTALL_HINT}") from None
    try:
        out, err = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise CompilerError(
            f"the C compiler took more than {limit:g} s on {lines:,} lines of generated C; use "
            "backend='numpy' for a program this large, or set SYMGRAD_CC_TIMEOUT to allow "
            "more seconds") from None
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0:
        detail = (err or out).strip().splitlines()[-20:]
        raise CompilerError("the C compiler refused the generated code (a symgrad bug; "
                            "please report it):\n" + "\n".join(detail))


def _kill_group(process):
    """Stop the compiler and everything it started."""
    try:
        os.killpg(process.pid, 9)
    except (OSError, AttributeError):
        process.kill()
    process.communicate()


def _announce(lines):
    """A line on stderr before a long compile, where someone watches."""
    if lines > LARGE_SOURCE and sys.stderr is not None and sys.stderr.isatty():
        print(f"symgrad: compiling {lines:,} lines of C (may take a minute; "
              f"time limit {_timeout():g} s)...", file=sys.stderr, flush=True)


# The cache keeps at most this many libraries and bytes: the least recently used go.
MAX_FILES = 1_000
MAX_BYTES = 256 * 2**20
STALE_SECONDS = 3600  # a temporary file this old is left over from a build that died


def _touch(fd, name):
    """Mark a library as used now (eviction removes the least recently used)."""
    try:
        os.utime(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        pass  # a cache on a read-only file system still serves


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
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass


def clear_cache():
    """Remove every file of the C backend's cache; returns how many were removed."""
    _, fd = _cache()
    names = [entry.name for entry in os.scandir(fd) if not entry.is_dir(follow_symlinks=False)]
    for name in names:
        _remove(fd, name)
    return len(names)
