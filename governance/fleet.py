"""A fleet's hosts grouped by stack, so that identical hosts are judged once.

A fleet of a thousand GPU nodes is a handful of distinct stacks (driver, GPUs,
CUDA runtimes, cuDNN copies). The rules run once per distinct stack, under a
name that says which hosts it stands for; each finding then names every
host of its group (Finding.hosts). Two hosts are one stack when everything
but their name and their GPUs' UUIDs is equal: a UUID identifies a device,
and no rule looks at it.
"""

from __future__ import annotations

from dataclasses import replace

from governance.frozen import frozen
from governance.model import Finding, GpuStack

MAX_LABEL = 120  # characters of host names a message spells out; Finding.hosts has them all


@frozen
class Group:
    """Hosts that share one GPU stack, judged once."""
    stack: GpuStack  # the first host's stack, named by `label`
    names: tuple[str, ...]  # every host with this stack, in the order given


def _key(stack: GpuStack) -> tuple[object, ...]:
    # Plain tuples, not dataclasses.replace(): a thousand hosts of eight GPUs each.
    gpus = tuple(tuple(v for k, v in vars(g).items() if k != "uuid") for g in stack.gpus)
    return tuple(v for k, v in vars(stack).items() if k not in ("name", "gpus")) + (gpus,)


def label(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return names[0]
    joined = ", ".join(names)
    if len(joined) <= MAX_LABEL:
        return joined
    shown: list[str] = []
    for name in names:
        if len(", ".join([*shown, name])) > MAX_LABEL - 40 and shown:
            break
        shown.append(name)
    return f"{', '.join(shown)} and {len(names) - len(shown)} more with the same stack"


def group(hosts: tuple[GpuStack, ...]) -> list[Group]:
    """The distinct stacks, in the order their first host was given."""
    found: dict[tuple[object, ...], list[GpuStack]] = {}
    for host in hosts:
        found.setdefault(_key(host), []).append(host)
    groups = []
    for members in found.values():
        names = tuple(h.name for h in members)
        groups.append(Group(stack=replace(members[0], name=label(names)), names=names))
    return groups


def name_every_host(findings: list[Finding], groups: list[Group]) -> list[Finding]:
    """Each finding about a group of several hosts, with all their names in Finding.hosts."""
    members = {g.stack.name: g.names for g in groups if len(g.names) > 1}
    if not members:
        return findings
    return [replace(f, hosts=members[f.host]) if f.host in members else f for f in findings]
