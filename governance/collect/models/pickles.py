"""Walk a pickle's opcodes and name every global it would import, without unpickling.

A symbolic stack machine: literals (strings, numbers, tuples, dicts) are kept
so that STACK_GLOBAL operands reached through the memo are known, and anything
a call would produce is an opaque `Call`. Nothing is imported or called. The
walk follows the stream exactly as `pickle.load` would read it, so that what
it reports is what the loader would do, including what happens before a
malformed part makes the loader fail (the calls made until then have run).
"""

from __future__ import annotations

import io
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable

from governance.frozen import frozen

# Bytes payloads larger than this are skipped rather than read: tensor data
# inside a pickle is never needed to judge what the pickle imports.
_KEEP_BYTES = 4096
MAX_OPS = 50_000_000


class PickleError(Exception):
    """The stream is not a pickle the standard loader would read to the end."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset


@frozen
class Global:
    """A global a pickle imports: module and name."""
    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@frozen
class Call:
    """What REDUCE, NEWOBJ, INST or OBJ would produce: never computed."""

    func: Any
    args: Any


class _Skipped:
    """A large bytes payload that was skipped, not read."""

    def __init__(self, size: int) -> None:
        self.size = size


class _Mark:
    pass


_MARK = _Mark()


@dataclass
class Walk:
    """What one pickle would do when loaded."""

    globals: list[str] = field(default_factory=list)  # every import, in stream order (dotted)
    problems: list[str] = field(default_factory=list)  # things that run code whatever the globals
    persistent_ids: int = 0
    calls: int = 0  # REDUCE, NEWOBJ, INST, OBJ and BUILD seen
    builds: list[tuple[Any, Any]] = field(default_factory=list)  # (object, state) of each BUILD
    end: int = 0  # the offset just past STOP
    # Hook: called on each BUILD, may read raw bytes that follow in the file (joblib arrays).
    stack_top: Any = None


def _resolve(module: str, name: str, protocol: int) -> Global:
    # The loader's own fix_imports mapping for protocols 0-2, so that
    # `__builtin__.eval` is judged as the builtins.eval it is.
    if protocol < 3:
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
    return Global(module, name)


class Walker:
    """Reads one pickle from a binary stream; see `walk`."""

    def __init__(self, stream: BinaryIO, on_build: Any = None) -> None:
        self.f = stream
        self.on_build = on_build  # callable(walk, obj, state, stream) -> None
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        self.memo: dict[int, Any] = {}
        self.protocol = 0
        self.result = Walk()

    # -- reading ---------------------------------------------------------
    def _read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise PickleError("truncated pickle", self.f.tell())
        return data

    def _readline(self) -> bytes:
        line = self.f.readline(65536)
        if not line.endswith(b"\n"):
            raise PickleError("truncated or overlong line argument", self.f.tell())
        return line[:-1]

    def _payload(self, n: int) -> Any:
        if n < 0:
            raise PickleError("negative length", self.f.tell())
        if n <= _KEEP_BYTES:
            return self._read(n)
        # Skip without holding it in memory, but the bytes must be there.
        start = self.f.tell()
        size = getattr(self.f, "size", None)
        if size is not None:
            if start + n > size:
                raise PickleError("a bytes argument runs past the end of the file", start)
            self.f.seek(n, io.SEEK_CUR)
            return _Skipped(n)
        left = n
        while left:
            chunk = self.f.read(min(left, 1 << 20))
            if not chunk:
                raise PickleError("truncated pickle", self.f.tell())
            left -= len(chunk)
        return _Skipped(n)

    # -- the stack -------------------------------------------------------
    def _pop(self) -> Any:
        if not self.stack:
            raise PickleError("stack underflow", self.f.tell())
        return self.stack.pop()

    def _pop_mark(self) -> list[Any]:
        if not self.metastack:
            raise PickleError("MARK expected", self.f.tell())
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def _top(self) -> Any:
        if not self.stack:
            raise PickleError("stack underflow", self.f.tell())
        return self.stack[-1]

    def _import(self, g: Global) -> Global:
        self.result.globals.append(g.dotted)
        return g

    def _string(self, value: Any, what: str) -> str:
        if isinstance(value, str):
            return value
        # A STACK_GLOBAL whose operands are not constant strings: what it
        # imports is decided at load time, so it cannot be allowed.
        self.result.problems.append(f"{what} computed at load time ({type(value).__name__})")
        return "<computed>"

    def walk(self) -> Walk:
        ops = 0
        while True:
            ops += 1
            if ops > MAX_OPS:
                raise PickleError("too many opcodes", self.f.tell())
            offset = self.f.tell()
            code = self.f.read(1)
            if not code:
                raise PickleError("truncated pickle (no STOP)", offset)
            op = code[0]
            handler = _DISPATCH.get(op)
            if handler is None:
                raise PickleError(f"unknown opcode {code!r}", offset)
            if handler(self) is _STOP:
                self.result.end = self.f.tell()
                self.result.stack_top = self.stack[-1] if self.stack else None
                return self.result


_STOP = object()


Handler = Callable[["Walker"], object]


def _op(code: bytes) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _DISPATCH[code[0]] = fn
        return fn
    return register


_DISPATCH: dict[int, Handler] = {}


@_op(b"\x80")
def _proto(w: Walker) -> None:
    w.protocol = w._read(1)[0]
    if w.protocol > 5:
        raise PickleError(f"unsupported pickle protocol {w.protocol}", w.f.tell() - 1)


@_op(b"\x95")
def _frame(w: Walker) -> None:
    w._read(8)


@_op(b".")
def _stop(w: Walker) -> object:
    return _STOP


# --- literals ---------------------------------------------------------------

@_op(b"N")
def _none(w: Walker) -> None:
    w.stack.append(None)


@_op(b"\x88")
def _true(w: Walker) -> None:
    w.stack.append(True)


@_op(b"\x89")
def _false(w: Walker) -> None:
    w.stack.append(False)


@_op(b"I")
def _int(w: Walker) -> None:
    text = w._readline()
    if text == b"00":
        w.stack.append(False)
    elif text == b"01":
        w.stack.append(True)
    else:
        try:
            w.stack.append(int(text))
        except ValueError:
            raise PickleError("bad INT argument", w.f.tell()) from None


@_op(b"L")
def _long(w: Walker) -> None:
    text = w._readline().rstrip(b"L")
    try:
        w.stack.append(int(text))
    except ValueError:
        raise PickleError("bad LONG argument", w.f.tell()) from None


@_op(b"J")
def _binint(w: Walker) -> None:
    w.stack.append(struct.unpack("<i", w._read(4))[0])


@_op(b"K")
def _binint1(w: Walker) -> None:
    w.stack.append(w._read(1)[0])


@_op(b"M")
def _binint2(w: Walker) -> None:
    w.stack.append(struct.unpack("<H", w._read(2))[0])


@_op(b"\x8a")
def _long1(w: Walker) -> None:
    n = w._read(1)[0]
    w.stack.append(int.from_bytes(w._read(n), "little", signed=True))


@_op(b"\x8b")
def _long4(w: Walker) -> None:
    n = struct.unpack("<i", w._read(4))[0]
    if n < 0 or n > 1 << 20:
        raise PickleError("bad LONG4 length", w.f.tell())
    w.stack.append(int.from_bytes(w._read(n), "little", signed=True))


@_op(b"F")
def _float(w: Walker) -> None:
    try:
        w.stack.append(float(w._readline()))
    except ValueError:
        raise PickleError("bad FLOAT argument", w.f.tell()) from None


@_op(b"G")
def _binfloat(w: Walker) -> None:
    w.stack.append(struct.unpack(">d", w._read(8))[0])


def _text(w: Walker, n: int) -> Any:
    data = w._payload(n)
    if isinstance(data, _Skipped):
        return data
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise PickleError("bad UTF-8 in a string", w.f.tell()) from None


@_op(b"S")
def _string(w: Walker) -> None:
    raw = w._readline()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[:1] in (b"'", b'"'):
        raw = raw[1:-1]
    else:
        raise PickleError("the STRING opcode argument must be quoted", w.f.tell())
    import codecs

    try:
        w.stack.append(codecs.escape_decode(raw)[0].decode("latin-1"))
    except (ValueError, UnicodeDecodeError):
        raise PickleError("bad STRING argument", w.f.tell()) from None


@_op(b"T")
def _binstring(w: Walker) -> None:
    n = struct.unpack("<i", w._read(4))[0]
    data = w._payload(n)
    w.stack.append(data.decode("latin-1") if isinstance(data, bytes) else data)


@_op(b"U")
def _short_binstring(w: Walker) -> None:
    w.stack.append(w._read(w._read(1)[0]).decode("latin-1"))


@_op(b"V")
def _unicode(w: Walker) -> None:
    try:
        w.stack.append(w._readline().decode("raw-unicode-escape"))
    except UnicodeDecodeError:
        raise PickleError("bad UNICODE argument", w.f.tell()) from None


@_op(b"X")
def _binunicode(w: Walker) -> None:
    w.stack.append(_text(w, struct.unpack("<I", w._read(4))[0]))


@_op(b"\x8c")
def _short_binunicode(w: Walker) -> None:
    w.stack.append(_text(w, w._read(1)[0]))


@_op(b"\x8d")
def _binunicode8(w: Walker) -> None:
    w.stack.append(_text(w, struct.unpack("<Q", w._read(8))[0]))


@_op(b"B")
def _binbytes(w: Walker) -> None:
    w.stack.append(w._payload(struct.unpack("<I", w._read(4))[0]))


@_op(b"C")
def _short_binbytes(w: Walker) -> None:
    w.stack.append(w._read(w._read(1)[0]))


@_op(b"\x8e")
def _binbytes8(w: Walker) -> None:
    w.stack.append(w._payload(struct.unpack("<Q", w._read(8))[0]))


@_op(b"\x96")
def _bytearray8(w: Walker) -> None:
    w.stack.append(w._payload(struct.unpack("<Q", w._read(8))[0]))


@_op(b"\x97")
def _next_buffer(w: Walker) -> None:
    # An out-of-band buffer: the loader needs `buffers=`; data only.
    w.stack.append(_Skipped(0))


@_op(b"\x98")
def _readonly_buffer(w: Walker) -> None:
    w._top()


# --- containers -------------------------------------------------------------

@_op(b"(")
def _mark(w: Walker) -> None:
    w.metastack.append(w.stack)
    w.stack = []


@_op(b")")
def _empty_tuple(w: Walker) -> None:
    w.stack.append(())


@_op(b"t")
def _tuple(w: Walker) -> None:
    items = w._pop_mark()
    w.stack.append(tuple(items))


@_op(b"\x85")
def _tuple1(w: Walker) -> None:
    w.stack.append((w._pop(),))


@_op(b"\x86")
def _tuple2(w: Walker) -> None:
    b, a = w._pop(), w._pop()
    w.stack.append((a, b))


@_op(b"\x87")
def _tuple3(w: Walker) -> None:
    c, b, a = w._pop(), w._pop(), w._pop()
    w.stack.append((a, b, c))


@_op(b"]")
def _empty_list(w: Walker) -> None:
    w.stack.append([])


@_op(b"l")
def _list(w: Walker) -> None:
    items = w._pop_mark()
    w.stack.append(list(items))


@_op(b"}")
def _empty_dict(w: Walker) -> None:
    w.stack.append(_Dict())


@_op(b"d")
def _dict(w: Walker) -> None:
    items = w._pop_mark()
    w.stack.append(_Dict(zip(items[::2], items[1::2])))


@_op(b"\x8f")
def _empty_set(w: Walker) -> None:
    w.stack.append(_Set())


@_op(b"\x90")
def _additems(w: Walker) -> None:
    items = w._pop_mark()
    target = w._top()
    _mutate(w, target, "add")
    if isinstance(target, _Set):
        target.extend(items)


@_op(b"\x91")
def _frozenset(w: Walker) -> None:
    items = w._pop_mark()
    w.stack.append(tuple(items))


class _Dict(list):  # type: ignore[type-arg]
    """A dict as its items: keys may be unhashable stand-ins."""


class _Set(list):  # type: ignore[type-arg]
    pass


def _mutate(w: Walker, target: Any, method: str) -> None:
    # Appending to or setting items of something that is not a plain
    # container calls that object's method; on a class or function itself
    # (a Global) that is a call into arbitrary code.
    if isinstance(target, Global):
        w.result.problems.append(f"{method} called on {target.dotted} itself")


@_op(b"a")
def _append(w: Walker) -> None:
    value = w._pop()
    target = w._top()
    _mutate(w, target, "append")
    if isinstance(target, list):
        target.append(value)


@_op(b"e")
def _appends(w: Walker) -> None:
    items = w._pop_mark()
    target = w._top()
    _mutate(w, target, "extend")
    if isinstance(target, list):
        target.extend(items)


@_op(b"s")
def _setitem(w: Walker) -> None:
    value, key = w._pop(), w._pop()
    target = w._top()
    _mutate(w, target, "__setitem__")
    if isinstance(target, _Dict):
        target.append((key, value))


@_op(b"u")
def _setitems(w: Walker) -> None:
    items = w._pop_mark()
    target = w._top()
    _mutate(w, target, "__setitem__")
    if isinstance(target, _Dict):
        target.extend(zip(items[::2], items[1::2]))


# --- stack and memo ---------------------------------------------------------

@_op(b"0")
def _pop_op(w: Walker) -> None:
    if w.stack:
        w.stack.pop()
    else:
        w._pop_mark()


@_op(b"1")
def _pop_mark_op(w: Walker) -> None:
    w._pop_mark()


@_op(b"2")
def _dup(w: Walker) -> None:
    w.stack.append(w._top())


def _get(w: Walker, index: int) -> None:
    if index not in w.memo:
        raise PickleError(f"memo key {index} not defined", w.f.tell())
    w.stack.append(w.memo[index])


def _put(w: Walker, index: int) -> None:
    if index < 0:
        raise PickleError("negative memo key", w.f.tell())
    w.memo[index] = w._top()


@_op(b"g")
def _get_text(w: Walker) -> None:
    try:
        _get(w, int(w._readline()))
    except ValueError:
        raise PickleError("bad GET argument", w.f.tell()) from None


@_op(b"h")
def _binget(w: Walker) -> None:
    _get(w, w._read(1)[0])


@_op(b"j")
def _long_binget(w: Walker) -> None:
    _get(w, struct.unpack("<I", w._read(4))[0])


@_op(b"p")
def _put_text(w: Walker) -> None:
    try:
        _put(w, int(w._readline()))
    except ValueError:
        raise PickleError("bad PUT argument", w.f.tell()) from None


@_op(b"q")
def _binput(w: Walker) -> None:
    _put(w, w._read(1)[0])


@_op(b"r")
def _long_binput(w: Walker) -> None:
    _put(w, struct.unpack("<I", w._read(4))[0])


@_op(b"\x94")
def _memoize(w: Walker) -> None:
    w.memo[len(w.memo)] = w._top()


# --- imports and calls ------------------------------------------------------

@_op(b"c")
def _global(w: Walker) -> None:
    module = w._readline().decode("utf-8", "surrogateescape")
    name = w._readline().decode("utf-8", "surrogateescape")
    w.stack.append(w._import(_resolve(module, name, w.protocol)))


@_op(b"\x93")
def _stack_global(w: Walker) -> None:
    name, module = w._pop(), w._pop()
    g = _resolve(w._string(module, "STACK_GLOBAL module"), w._string(name, "STACK_GLOBAL name"), w.protocol)
    w.stack.append(w._import(g))


@_op(b"\x82")
def _ext1(w: Walker) -> None:
    _extension(w, w._read(1)[0])


@_op(b"\x83")
def _ext2(w: Walker) -> None:
    _extension(w, struct.unpack("<H", w._read(2))[0])


@_op(b"\x84")
def _ext4(w: Walker) -> None:
    _extension(w, struct.unpack("<i", w._read(4))[0])


def _extension(w: Walker, code: int) -> None:
    # copyreg's extension registry maps the code to a global chosen by
    # whatever the loading process registered: unknowable from the file.
    w.result.problems.append(f"extension code {code} (imports whatever the loading process registered)")
    w.stack.append(Global("<extension>", str(code)))


@_op(b"R")
def _reduce(w: Walker) -> None:
    args, func = w._pop(), w._pop()
    _called(w, func, "REDUCE")
    w.stack.append(Call(func, args))


@_op(b"\x81")
def _newobj(w: Walker) -> None:
    args, cls = w._pop(), w._pop()
    _called(w, cls, "NEWOBJ")
    w.stack.append(Call(cls, args))


@_op(b"\x92")
def _newobj_ex(w: Walker) -> None:
    kwargs, args, cls = w._pop(), w._pop(), w._pop()
    _called(w, cls, "NEWOBJ_EX")
    w.stack.append(Call(cls, (args, kwargs)))


@_op(b"i")
def _inst(w: Walker) -> None:
    module = w._readline().decode("utf-8", "surrogateescape")
    name = w._readline().decode("utf-8", "surrogateescape")
    args = w._pop_mark()
    g = w._import(_resolve(module, name, w.protocol))
    w.result.calls += 1
    w.stack.append(Call(g, tuple(args)))


@_op(b"o")
def _obj(w: Walker) -> None:
    items = w._pop_mark()
    if not items:
        raise PickleError("OBJ without a class", w.f.tell())
    cls = items[0]
    _called(w, cls, "OBJ")
    w.stack.append(Call(cls, tuple(items[1:])))


def _called(w: Walker, func: Any, how: str) -> None:
    w.result.calls += 1
    # Calling anything but an imported global (a call's result, a string)
    # means the callee is decided at load time.
    if not isinstance(func, Global):
        kind = "the result of a call" if isinstance(func, Call) else type(func).__name__
        w.result.problems.append(f"{how} calls {kind}, not an imported global")


@_op(b"b")
def _build(w: Walker) -> None:
    state = w._pop()
    target = w._top()
    if isinstance(target, Global):
        # BUILD on a class or function (not an instance of it) sets its
        # attributes: a way to rewire an allowed global before it is called.
        w.result.problems.append(f"BUILD sets attributes of {target.dotted} itself")
    w.result.builds.append((target, state))
    if w.on_build is not None:
        w.on_build(w, target, state)


@_op(b"P")
def _persid(w: Walker) -> None:
    w._readline()
    w.result.persistent_ids += 1
    w.stack.append(Call(Global("<persistent>", "id"), ()))


@_op(b"Q")
def _binpersid(w: Walker) -> None:
    w._pop()
    w.result.persistent_ids += 1
    w.stack.append(Call(Global("<persistent>", "id"), ()))


def walk(stream: BinaryIO, on_build: Any = None) -> Walk:
    """Walk one pickle from the stream's position to its STOP.

    Raises PickleError when the stream is not a complete pickle; the globals
    seen until then are on the exception's `partial` attribute.
    """
    walker = Walker(stream, on_build)
    try:
        return walker.walk()
    except PickleError as exc:
        exc.partial = walker.result  # type: ignore[attr-defined]
        raise
    except RecursionError:
        error = PickleError("nested too deep", stream.tell())
        error.partial = walker.result  # type: ignore[attr-defined]
        raise error from None


def dict_items(value: Any) -> dict[Any, Any]:
    """A walked dict literal as a dict of its hashable keys (for reading joblib and numpy state)."""
    if isinstance(value, _Dict):
        out = {}
        for key, item in value:
            try:
                out[key] = item
            except TypeError:
                continue
        return out
    return {}


# The opcodes a stream may start with; used by detection to try a walk.
PROTO = 0x80
FIRST_OPCODES_PROTOCOL_0 = frozenset(b"(cNIJKLFSVX]})li\x8c")
