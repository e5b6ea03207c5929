"""Container files: the images a project's Dockerfiles and compose files build on or run.

Read as text, never built or run. A Dockerfile is read the way BuildKit reads
it where that touches FROM: parser directives (`# escape=`), comments, line
continuations, heredocs (whose bodies are not instructions), `ARG` before the
first `FROM` with `${VAR:-default}`, `--platform=`, stage names (`FROM builder`
names a stage, not an image) and any case. Compose files are YAML, loaded safely
and refused when their aliases expand beyond any real file (an alias bomb).

Each image becomes a ContainerImage with what it brings (CUDA, cuDNN, a
framework) from the shipped image-tag knowledge; a reference that cannot be
resolved (an ARG without a default) is kept with the reason, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from governance.collect.container_files import find, is_container_file
from governance.errors import InputError
from governance.escape import quote
from governance.frozen import frozen
from governance.inputs import read_input, reading, relative
from governance.model import ContainerImage, Unread

MAX_CONTAINER_FILE_BYTES = 4 * 1024 * 1024
MAX_STAGES = 500
# A compose file's node graph, aliases expanded, is never near this big; a
# "billion laughs" document is (each level multiplies the one below).
MAX_YAML_NODES = 200_000
_REQUIRE_CUDA = "NVIDIA_REQUIRE_CUDA"


@frozen
class ContainerResult:
    """The images the project's container files name, the files read, and what was left unread."""
    images: tuple[ContainerImage, ...]
    files: tuple[str, ...]
    notes: tuple[str, ...]
    unread: tuple[Unread, ...] = ()


def read_all(root: Path) -> ContainerResult:
    notes: list[str] = []
    unread: list[Unread] = []
    return replace(read_found(find(root, notes, unread), root, notes), unread=tuple(unread))


def read_found(paths: list[Path], root: Path, notes: list[str]) -> ContainerResult:
    """The images of the container files `find` found; `notes` holds what finding them said."""
    images: list[ContainerImage] = []
    files: list[str] = []
    notes = list(notes)
    for path in paths:
        shown = relative(path, root)
        if is_container_file(path.name) == "template":
            if not path.name.lower().endswith(".dockerignore"):
                notes.append(f"{shown}: a Dockerfile template, not read; scan the Dockerfile it renders "
                             f"to judge its base images")
            continue
        text = read_input(path, "container file", MAX_CONTAINER_FILE_BYTES, shown=shown)
        with reading(shown, "container file"):  # a shape no check foresaw is this file's error, not mlgov's
            if is_container_file(path.name) == "compose":
                found, said = read_compose(text, shown, _dotenv(path.parent / ".env"))
                notes.extend(said)
            else:
                found = read_dockerfile(text, shown)
        images.extend(found)
        files.append(shown)
    return ContainerResult(images=tuple(_with_facts(i) for i in images), files=tuple(files), notes=tuple(notes))


# --- Dockerfile -------------------------------------------------------------

@frozen
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""
    keyword: str  # upper case
    args: str  # continuation lines joined, heredoc bodies left out
    line: int  # the first physical line


_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def directives(lines: list[str], shown: str) -> tuple[dict[str, str], int]:
    """Parser directives at the top of the file, and the index of the first line after them."""
    found: dict[str, str] = {}
    index = 0
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line.strip()) if line.strip() else None
        if match is None or match.group(1).lower() in found:
            # BuildKit stops looking at the first comment, blank line or instruction.
            return found, index
        found[match.group(1).lower()] = match.group(2)
    return found, len(lines)


def instructions(text: str, shown: str) -> tuple[list[Instruction], str]:
    """The file's instructions and its escape character."""
    lines = text.splitlines()
    found, start = directives(lines, shown)
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise InputError(f"parser directive escape={escape!r}: only \\ and ` are allowed", file=shown, line=1)
    result: list[Instruction] = []
    i = start
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = i
        parts: list[str] = []
        current = stripped
        while True:
            body = current.rstrip()
            if body.endswith(escape) and not body.endswith(escape * 2):
                parts.append(body[:-1])
                i += 1
                # Comment and blank lines inside a continuation are dropped, as BuildKit does.
                while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                current = lines[i]
                continue
            parts.append(body)
            break
        # BuildKit removes the escape and the newline and keeps the rest as it is.
        logical = "".join(parts).strip()
        keyword, _, args = logical.partition(" ")
        keyword = keyword.upper()
        i += 1
        if keyword in ("RUN", "COPY", "ADD"):
            for match in _heredocs(args):
                strip_tabs, word = match.group(1) == "-", match.group(3)
                while True:
                    if i >= len(lines):
                        raise InputError(f"heredoc <<{word} is not closed before the end of the file",
                                         file=shown, line=first + 1)
                    body_line = lines[i].lstrip("\t") if strip_tabs else lines[i]
                    i += 1
                    if body_line == word:
                        break
        result.append(Instruction(keyword=keyword, args=args.strip(), line=first + 1))
    return result, escape


def _heredocs(args: str) -> list[re.Match[str]]:
    """Heredoc markers outside quotes (`echo "<<EOF"` is not one)."""
    found = []
    quote = None
    i = 0
    while i < len(args):
        c = args[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif args.startswith("<<", i):
            match = _HEREDOC.match(args, i)
            if match:
                found.append(match)
                i = match.end()
                continue
        i += 1
    return found


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Real defaults nest two or three deep (${A:-${B:-x}}); each level rescans its word, so an
# unbounded depth is quadratic time and, past Python's recursion limit, a crash.
MAX_SUBSTITUTION_DEPTH = 16


def expand(text: str, env: dict[str, str | None], escape: str = "\\",
           _depth: int = 0) -> tuple[str, list[str]]:
    """Docker's variable substitution: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word}.

    Returns the text and the variables that had no value (an ARG without a
    default, or no ARG at all): the caller decides what an unresolved image is.
    """
    if _depth > MAX_SUBSTITUTION_DEPTH:
        raise ValueError(f"substitutions nested more than {MAX_SUBSTITUTION_DEPTH} deep")
    out: list[str] = []
    missing: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == escape and text[i + 1:i + 2] == "$":
            out.append("$")
            i += 2
            continue
        if c == "$" and text[i + 1:i + 2] == "{":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise ValueError(f"unterminated ${{ in {quote(text, 80)}")
            inner = text[i + 2:j - 1]
            match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?", inner, re.DOTALL)
            if match is None:
                raise ValueError(f"bad substitution {quote('${' + inner + '}', 80)}")
            name, op, word = match.groups()
            value = env.get(name)
            if op is None:
                if value is None:
                    missing.append(name)
                out.append(value or "")
            else:
                is_set = value is not None and (value != "" or not op.startswith(":"))
                kind = op[-1]
                if kind == "-":
                    if is_set:
                        out.append(value or "")
                    else:
                        expanded, more = expand(word, env, escape, _depth + 1)
                        missing.extend(more)
                        out.append(expanded)
                elif kind == "+":
                    if is_set:
                        expanded, more = expand(word, env, escape, _depth + 1)
                        missing.extend(more)
                        out.append(expanded)
                elif is_set:  # "?": required
                    out.append(value or "")
                else:
                    missing.append(name)
            i = j
            continue
        if c == "$":
            match = _NAME.match(text, i + 1)  # at a position: slicing the rest at every `$` is quadratic
            if match:
                name = match.group(0)
                value = env.get(name)
                if value is None:
                    missing.append(name)
                out.append(value or "")
                i += 1 + len(name)
                continue
        out.append(c)
        i += 1
    return "".join(out), missing


def _words(args: str, escape: str) -> list[str]:
    """Shell-like words of ARG/ENV arguments (quotes removed), as shlex's POSIX mode splits them
    on whitespace, in one pass: shlex itself grows each word a character at a time by string
    concatenation, quadratic in a word's length (a 1 MB quoted ENV value took 20 s)."""
    words: list[str] = []
    word: list[str] = []
    in_word = False  # a word has started (an empty quoted "" is a word too)
    quote: str | None = None
    i, n = 0, len(args)
    while i < n:
        c = args[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                word.append(c)
        elif quote == '"':
            if c == '"':
                quote = None
            elif c == escape:
                if i + 1 >= n:
                    return args.split()
                following = args[i + 1]
                if following not in ('"', escape):
                    word.append(c)  # inside double quotes the escape only escapes a quote or itself
                word.append(following)
                i += 1
            else:
                word.append(c)
        elif c in " \t\r\n":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        elif c == escape:
            if i + 1 >= n:
                return args.split()
            word.append(args[i + 1])
            in_word = True
            i += 1
        elif c in "'\"":
            quote, in_word = c, True
        else:
            word.append(c)
            in_word = True
        i += 1
    if quote is not None:
        return args.split()  # no closing quotation
    if in_word:
        words.append("".join(word))
    return words


def _assignments(args: str, escape: str, legacy: bool) -> list[tuple[str, str | None]]:
    """ARG NAME[=default] ... / ENV KEY=VALUE ... (and the legacy `ENV KEY value`)."""
    words = _words(args, escape)
    if legacy and words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, value = word.partition("=")
        pairs.append((name, value if eq else None))
    return pairs


@dataclass
class _Stage:
    """A build stage while its Dockerfile is read: the ARG/ENV values that FROM lines can expand."""
    index: int
    name: str | None
    env: dict[str, str | None]  # ARG and ENV values visible in the stage
    require_cuda: str | None
    parent: int | None  # the stage it is built FROM, when that is a stage
    image: int | None  # position in the image list of its FROM image

    @property
    def label(self) -> str:
        return self.name or str(self.index)


_FLAG = re.compile(r"^--([a-z-]+)(?:=(.*))?$")


def read_dockerfile(text: str, shown: str) -> list[ContainerImage]:
    steps, escape = instructions(text, shown)
    global_args: dict[str, str | None] = {}
    stages: list[_Stage] = []
    images: list[ContainerImage] = []
    for step in steps:
        if step.keyword == "FROM":
            if len(stages) >= MAX_STAGES:
                # Each FROM looks up the stages before it and copies its parent's ARG/ENV values:
                # quadratic in the number of stages, which no real Dockerfile has hundreds of.
                raise InputError(f"more than {MAX_STAGES} build stages (FROM instructions); mlgov does not judge "
                                 "a Dockerfile this large", file=shown, line=step.line)
            stages.append(_from(step, shown, escape, global_args, stages, images))
            continue
        if not stages:
            if step.keyword == "ARG":
                for name, value in _assignments(step.args, escape, legacy=False):
                    global_args[name] = _expanded_value(value, global_args, escape)
            elif step.keyword not in ("ARG",):
                raise InputError(f"{step.keyword} before the first FROM (only ARG may come before it)",
                                 file=shown, line=step.line)
            continue
        stage = stages[-1]
        if step.keyword == "ARG":
            for name, value in _assignments(step.args, escape, legacy=False):
                # `ARG NAME` inside a stage brings the global ARG's default into it.
                stage.env[name] = _expanded_value(value, stage.env, escape) if value is not None \
                    else global_args.get(name)
        elif step.keyword == "ENV":
            for name, value in _assignments(step.args, escape, legacy=True):
                stage.env[name] = _expanded_value(value, stage.env, escape) if value is not None else ""
                if name == _REQUIRE_CUDA:
                    stage.require_cuda = stage.env[name]
        elif step.keyword in ("COPY", "ADD", "RUN"):
            for source in _copy_sources(step, escape):
                image = _image_of(source, step, shown, escape, stage.env, stages, "copy-from", stage.label)
                if image is not None:
                    images.append(image)
    if not stages:
        raise InputError("no FROM instruction: not a Dockerfile BuildKit can build", file=shown)
    return _mark_runtime(images, stages)


def _expanded_value(value: str | None, env: dict[str, str | None], escape: str) -> str | None:
    if value is None:
        return None
    try:
        expanded, missing = expand(value, env, escape)
    except ValueError:
        return value
    return None if missing and not expanded else expanded


def _from(step: Instruction, shown: str, escape: str, global_args: dict[str, str | None],
          stages: list[_Stage], images: list[ContainerImage]) -> _Stage:
    words = step.args.split()
    platform = None
    while words and words[0].startswith("--"):
        match = _FLAG.match(words.pop(0))
        if match and match.group(1) == "platform":
            platform = match.group(2)
    if not words:
        raise InputError("FROM names no image", file=shown, line=step.line)
    written = words[0]
    name = None
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2]
    elif len(words) != 1:
        raise InputError(f"FROM {quote(step.args, 80)}: expected `FROM [--platform=...] IMAGE [AS NAME]`",
                         file=shown, line=step.line)
    index = len(stages)
    label = name or str(index)
    try:
        resolved, missing = expand(written, global_args, escape)
    except ValueError as exc:
        raise InputError(f"FROM {quote(written, 80)}: {exc}", file=shown, line=step.line) from None
    parent = _stage_named(resolved, stages) if not missing else None
    stage = _Stage(index=index, name=name, env={}, require_cuda=None, parent=parent, image=None)
    if parent is not None:
        stage.env = dict(stages[parent].env)
        stage.require_cuda = stages[parent].require_cuda
        return stage
    if not missing and resolved.lower() == "scratch":
        return stage
    image = _image(written, resolved, missing, step, shown, "from", label, platform)
    stage.image = len(images)
    images.append(image)
    return stage


def _stage_named(value: str, stages: list[_Stage]) -> int | None:
    for stage in stages:
        if stage.name is not None and stage.name.lower() == value.lower():
            return stage.index
    return None


def _copy_sources(step: Instruction, escape: str) -> Iterator[str]:
    """Images named by COPY/ADD --from=... and RUN --mount=...,from=..."""
    for word in _words(step.args, escape):
        if not word.startswith("--"):
            break  # flags come first; what follows is the command or the paths
        if word.startswith("--from="):
            yield word[len("--from="):]
        elif word.startswith("--mount="):
            for option in word[len("--mount="):].split(","):
                key, _, value = option.partition("=")
                if key == "from" and value:
                    yield value


def _image_of(source: str, step: Instruction, shown: str, escape: str, env: dict[str, str | None],
              stages: list[_Stage], kind: str, label: str) -> ContainerImage | None:
    try:
        resolved, missing = expand(source, env, escape)
    except ValueError as exc:
        raise InputError(f"--from={quote(source, 80)}: {exc}", file=shown, line=step.line) from None
    if not missing and (resolved.isdigit() or _stage_named(resolved, stages) is not None
                        or resolved.lower() == "scratch"):
        return None  # a stage of this file, not an image
    if not missing and "/" not in resolved and ":" not in resolved and "@" not in resolved:
        # A build context name (`--build-context name=...`) or a stage defined later: not an image reference.
        return None
    return _image(source, resolved, missing, step, shown, kind, label, None)


def _image(written: str, resolved: str, missing: list[str], step: Instruction, shown: str, kind: str,
           label: str | None, platform: str | None) -> ContainerImage:
    base = ContainerImage(written=written, file=shown, line=step.line, kind=kind, stage=label, platform=platform)
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        return replace(base, unresolved=f"{written} depends on {names}, which has no default in the file "
                                        f"(set by --build-arg at build time)")
    try:
        registry, repository, tag, digest = parse_reference(resolved)
    except ValueError as exc:
        raise InputError(f"{step.keyword} {quote(written, 80)}: {exc}", file=shown, line=step.line) from None
    return replace(base, reference=resolved, registry=registry, repository=repository, tag=tag, digest=digest)


def _mark_runtime(images: list[ContainerImage], stages: list[_Stage]) -> list[ContainerImage]:
    """The final stage's image chain is what the built container runs; the requirement it declares goes with it."""
    marked = list(images)

    def declared(index: int, require: str) -> None:
        image = marked[index]
        marked[index] = replace(image, require_cuda=require, require_source=f"ENV {_REQUIRE_CUDA} in {image.file}")

    for stage in stages:
        if stage.image is not None and stage.require_cuda is not None:
            declared(stage.image, stage.require_cuda)
    final = stages[-1]
    seen = set()
    current: _Stage | None = final
    while current is not None and current.index not in seen:
        seen.add(current.index)
        if current.image is not None:
            marked[current.image] = replace(marked[current.image], runtime=True)
            if final.require_cuda is not None:
                declared(current.image, final.require_cuda)
            break
        current = stages[current.parent] if current.parent is not None else None
    return marked


# --- image references -------------------------------------------------------

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"(?::[0-9]+)?$|^\[[0-9A-Fa-f:]+\](?::[0-9]+)?$")
_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def parse_reference(reference: str) -> tuple[str, str, str | None, str | None]:
    """(registry, repository, tag, digest) as Docker normalises a reference.

    A first component with a dot or a port, or `localhost`, is a registry
    (so `registry.local:5000/img:latest` has the tag `latest` and the registry
    `registry.local:5000`); otherwise the registry is docker.io, and a single
    name is docker.io/library/NAME.
    """
    if not reference or any(c.isspace() for c in reference):
        raise ValueError("not an image reference")
    name, at, digest = reference.partition("@")
    if at and not _DIGEST.match(digest):
        raise ValueError(f"invalid digest {quote(digest, 80)}")
    tag = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.match(tag):
            raise ValueError(f"invalid tag {quote(tag, 80)}")
    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry = first.lower()
        path = parts[1:]
        if not _HOST.match(first):
            raise ValueError(f"invalid registry {quote(first, 80)}")
    else:
        registry = "docker.io"
        path = parts
    if registry in _DOCKER_HUB:
        registry = "docker.io"
        if len(path) == 1:
            path = ["library", *path]
    for component in path:
        if not _COMPONENT.match(component):
            hint = " (repository names are lower case)" if component.lower() != component else ""
            raise ValueError(f"invalid repository name {quote('/'.join(path), 80)}{hint}")
    return registry, "/".join(path), tag, digest or None


# --- compose ----------------------------------------------------------------

def _dotenv(path: Path) -> dict[str, str | None]:
    """KEY=VALUE lines of the .env file compose reads for interpolation (when there is one)."""
    values: dict[str, str | None] = {}
    if not path.is_file():
        return values
    try:
        text = read_input(path, ".env file", 1024 * 1024)
    except InputError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _compose_yaml(text: str, shown: str) -> Any:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem}", file=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=shown) from None
    if node is None:
        return None
    sizes: dict[int, int] = {}

    def size(n: Any) -> int:
        # Aliases share nodes; counted once per reference, as a consumer expanding them would.
        key = id(n)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a recursive alias counts once
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in n.value)
        else:
            total = 1
        sizes[key] = min(total, MAX_YAML_NODES + 1)
        return sizes[key]

    if size(node) > MAX_YAML_NODES:
        raise InputError(f"YAML aliases expand to more than {MAX_YAML_NODES} nodes (an alias bomb?); refused",
                         file=shown)
    return node


def _mapping_get(node: Any, key: str, seen: frozenset[int] = frozenset()) -> Any:
    """A key's value node in a mapping node, following `<<` merge keys as YAML does.

    `seen`: the mappings on the way here; a mapping that merges itself (`a: &a {<<: *a}`)
    adds nothing, and following it again would never end."""
    import yaml

    if not isinstance(node, yaml.MappingNode) or id(node) in seen:
        return None
    seen = seen | {id(node)}
    merged: list[Any] = []
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and k.tag != "tag:yaml.org,2002:merge":
            return v
        if isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:merge":
            merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
    for source in merged:
        found = _mapping_get(source, key, seen)
        if found is not None:
            return found
    return None


def read_compose(text: str, shown: str, env: dict[str, str | None]) -> tuple[list[ContainerImage], list[str]]:
    import yaml

    root = _compose_yaml(text, shown)
    notes: list[str] = []
    if root is None:
        return [], notes
    if not isinstance(root, yaml.MappingNode):
        raise InputError("a compose file is a mapping (services: ...)", file=shown, line=root.start_mark.line + 1)
    services = _mapping_get(root, "services")
    if services is None:
        return [], notes
    if not isinstance(services, yaml.MappingNode):
        raise InputError("`services` is not a mapping", file=shown, line=services.start_mark.line + 1)
    images: list[ContainerImage] = []
    for key, service in services.value:
        name = str(key.value)
        image_node = _mapping_get(service, "image")
        if image_node is None:
            continue
        line = image_node.start_mark.line + 1
        if not isinstance(image_node, yaml.ScalarNode) or not isinstance(image_node.value, str):
            raise InputError(f"service {quote(name, 80)}: `image` is not a string", file=shown, line=line)
        written = image_node.value.strip()
        if _mapping_get(service, "build") is not None:
            notes.append(f"{shown}:{line}: service {name!r} builds its image; `image: {written}` names the "
                         f"result, whose base images come from its Dockerfile")
            continue
        step = Instruction(keyword="image:", args=written, line=line)
        try:
            # Compose interpolation has the same ${VAR:-default} forms; `$$` is a literal `$`.
            resolved, missing = expand(written.replace("$$", "\\$"), env)
        except ValueError as exc:
            raise InputError(f"service {quote(name, 80)}: {exc}", file=shown, line=line) from None
        image = _image(written, resolved, missing, step, shown, "compose", None, None)
        if image.unresolved:
            image = replace(image, unresolved=image.unresolved.replace("--build-arg at build time",
                                                                       "the environment or .env"))
        images.append(replace(image, service=name, runtime=True))
    return images, notes


def _with_facts(image: ContainerImage) -> ContainerImage:
    from governance.knowledge import images as knowledge

    if image.registry is None or image.repository is None:
        return image
    facts = knowledge.brings(image.registry, image.repository, image.tag)
    if facts is None:
        return image
    declared = image.require_source is not None
    return replace(image, cuda=facts.cuda, cudnn=facts.cudnn, framework=facts.framework,
                   framework_version=facts.framework_version, min_driver=facts.min_driver,
                   facts_source=facts.source,
                   require_cuda=image.require_cuda if declared else facts.require_cuda,
                   require_source=image.require_source if declared or facts.require_cuda is None
                   else facts.source)
