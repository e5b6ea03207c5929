"""MODEL001-MODEL004: model files that run code when loaded, formats a stage does not allow,
files that could not be judged, and hashes that differ from the team's models manifest.

Judged from what the scan recorded (and an SBOM carries): the globals each
file's pickles import are compared here with the format's allow-list, so
`mlgov check` on an SBOM reaches the scan's verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from governance.model import Finding, ModelFile
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("MODEL001", "models", "error",
         "A model file can run code when it is loaded (a global off its format's allow-list, a Lambda layer, "
         "an external-data path that leaves the model's folder, ...).",
         "Do not load the file. Get the model as safetensors, ONNX or GGUF, or from a source you trust; when "
         "a global is known to be safe, list it in the policy's `[models] allow_globals`."),
    Rule("MODEL002", "models", "error",
         "A model file's format is not one the stage allows (policy `[models] allow_formats`).",
         "Convert the model to an allowed format (e.g. safetensors: `safetensors.torch.save_file`), or "
         "change `[models] allow_formats` for this stage."),
    Rule("MODEL003", "models", "error",
         "A model file could not be parsed or judged (a truncated pickle, a zip trick, a header that lies).",
         "Re-export the model with its library, or remove the file; a file mlgov cannot read may be read "
         "differently by the loader."),
    Rule("MODEL004", "models", "error",
         "A model file's SHA-256 differs from the models manifest the policy names (or is not in it).",
         "If the change is intended, run `mlgov models lock` and commit the manifest; otherwise find out "
         "who changed the model."),
)
_MAX_PER_FILE = 20


def _component(model: ModelFile) -> str | None:
    return model.purl


def _at(ctx: RuleContext, rule_id: str, message: str, file: str, component: str | None = None,
        fix: str | None = None) -> Finding | None:
    """A finding about a model file: `file` is the model's path (JSON reports, SARIF, waivers)."""
    found = ctx.finding(rule_id, message, fix=fix)
    return None if found is None else replace(found, file=file, component=component)


def _code_findings(ctx: RuleContext, model: ModelFile, extra: tuple[str, ...]) -> Iterator[Finding | None]:
    from governance.collect.models.allowlist import disallowed

    reasons = [f"imports {g} (not on the {model.format} allow-list)" for g in disallowed(model.format,
                                                                                         model.globals, extra)]
    reasons.extend(model.code)
    for reason in reasons[:_MAX_PER_FILE]:
        yield _at(ctx, "MODEL001", f"model {model.path} can run code when loaded: {reason}",
                          file=model.path, component=_component(model),
                          fix="do not load it; get the weights as safetensors/ONNX/GGUF from a trusted source")
    if len(reasons) > _MAX_PER_FILE:
        yield _at(ctx, "MODEL001", f"model {model.path}: {len(reasons) - _MAX_PER_FILE} more ways to run "
                          "code when loaded", file=model.path, component=_component(model))


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    models = ctx.inventory.models
    extra = tuple(ctx.policy.get("models", "allow_globals", []) or [])
    formats = ctx.policy.get("models", "allow_formats")
    for model in models:
        if ctx.enabled("MODEL001"):
            yield from _code_findings(ctx, model, extra)
        for reason in model.unparsed[:_MAX_PER_FILE]:
            yield _at(ctx, "MODEL003", f"model {model.path} ({model.format}) could not be judged: {reason}",
                              file=model.path, component=_component(model),
                              fix="re-export it with its library or remove it")
        if formats is not None and model.format not in formats:
            yield _at(ctx, "MODEL002", f"model {model.path} is {model.format}; this stage allows "
                              f"{', '.join(formats) or 'no model formats'}", file=model.path,
                              component=_component(model), fix=f"convert it to {' or '.join(formats)}"
                              if formats else None)
    yield from _manifest(ctx)


def _manifest(ctx: RuleContext) -> Iterator[Finding | None]:
    named = ctx.policy.get("models", "manifest")
    manifest = ctx.inventory.model_manifest
    if not named or not ctx.enabled("MODEL004"):
        return
    if manifest is None:
        yield _at(ctx, "MODEL004", f"the policy names the models manifest {named}, which was not read",
                          file=named, fix="run `mlgov models lock` and commit the manifest")
        return
    if manifest.error:
        yield _at(ctx, "MODEL004", f"models manifest {manifest.file}: {manifest.error}", file=manifest.file,
                          fix="run `mlgov models lock` and commit the manifest")
        return
    recorded = dict(manifest.hashes)
    for model in ctx.inventory.models:
        want = recorded.get(model.path)
        if want is None:
            yield _at(ctx, "MODEL004", f"model {model.path} is not in the models manifest {manifest.file}",
                              file=model.path, component=_component(model),
                              fix="review the model, then `mlgov models lock`")
        elif want != model.sha256:
            yield _at(ctx, "MODEL004", f"model {model.path} has SHA-256 {model.sha256}, the models manifest "
                              f"{manifest.file} records {want}", file=model.path, component=_component(model),
                              fix="if the change is intended, `mlgov models lock`; else restore the file")
