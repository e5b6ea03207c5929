"""governance.inputs: the JSON reader's refusal of lone UTF-16 surrogates and of numbers too long to read."""

from __future__ import annotations

import json

import pytest

from governance.errors import InputError
from governance.inputs import refuse_lone_surrogates


@pytest.mark.parametrize("text", [
    r'{"name": "\ud800"}',             # a high half alone
    r'{"name": "\udc00"}',             # a low half alone
    r'{"name": "\udc00\ud800"}',       # the halves in the wrong order
    r'{"name": "\\\ud800"}',           # an escaped backslash, then a real lone escape
])
def test_a_lone_surrogate_escape_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        refuse_lone_surrogates("{\n" + text + "\n}", "x.json")
    assert caught.value.line == 2


@pytest.mark.parametrize("text", [
    r'{"name": "\ud83d\ude00"}',       # a pair: one character (an emoji)
    r'{"path": "C:\\ud800"}',          # a backslash, then the text "ud800"
    r'{"path": "\\\\ud800"}',          # two backslashes, then text
    r'{"name": "\u00e9"}',
])
def test_valid_json_text_is_accepted(text: str) -> None:
    refuse_lone_surrogates(text, "x.json")
    json.loads(text).popitem()[1].encode("utf-8")  # and it really is encodable text


# --- numbers too long for Python: json and tomllib raise a bare ValueError, not their syntax error ---

HUGE = "9" * 5000


@pytest.mark.parametrize(("parse", "text"), [
    ("parse_json", '{\n  "a": [1,\n ' + HUGE + "]}"),
    ("parse_toml", 'a = 1\nb = "x"\nc = ' + HUGE + "\n"),
])
def test_a_number_python_cannot_read_is_an_input_error_at_its_line(parse: str, text: str) -> None:
    from governance import inputs

    with pytest.raises(InputError, match="more than 4300 digits") as caught:
        getattr(inputs, parse)(text, "x")
    assert caught.value.line == 3


def _sbom_text() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "data" / "golden" / "sbom-1.6.cdx.json").read_text()


@pytest.mark.parametrize("case", ["mlgov.toml", "pyproject.toml", "policy", "host", "baseline", "advisory",
                                  "model config.json"])
def test_a_huge_number_in_any_input_is_exit_2_naming_it(tmp_path, case: str, capsys) -> None:  # type: ignore[no-untyped-def]
    # Each of these was exit 3 (an internal error) or exit 2 "unexpected content ... report this as a bug".
    from pathlib import Path

    from governance.cli import main

    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==1.26.4\n")
    (project / ".git").mkdir()
    argv = ["scan", str(project)]
    if case == "mlgov.toml":
        (project / "mlgov.toml").write_text(f'policy = "baseline"\nx = {HUGE}\n')
        shown = "mlgov.toml:2:"
    elif case == "pyproject.toml":
        (project / "pyproject.toml").write_text(f'[project]\nname = "p"\n[tool.black]\nx = {HUGE}\n')
        shown = "pyproject.toml:4:"
    elif case == "policy":
        (tmp_path / "team.toml").write_text(f'schema = 1\nname = "t"\nx = {HUGE}\n')
        argv += ["--policy", str(tmp_path / "team.toml")]
        shown = "team.toml:3:"
    elif case == "host":
        (tmp_path / "host.json").write_text('{"format": "mlgov-host-profile", "version": 1,\n'
                                            f'"nvidia": {{"driver_version": "580.1", "gpus": [{HUGE}]}}}}\n')
        argv += ["--host", str(tmp_path / "host.json")]
        shown = "host.json:2:"
    elif case == "baseline":
        (tmp_path / "main.json").write_text(f'{{"format": "mlgov-report",\n"version": {HUGE}}}\n')
        argv += ["--baseline", str(tmp_path / "main.json")]
        shown = "main.json:2:"
    elif case == "advisory":
        (tmp_path / "osv").mkdir()
        (tmp_path / "osv" / "A-1.json").write_text(f'{{"id": "A-1", "x": {HUGE}}}\n')
        argv += ["--vuln-db", str(tmp_path / "osv")]
        shown = "A-1.json"
    else:  # a config.json beside a model only adds its architecture to the card: never fatal
        model = Path(__file__).parent / "data" / "models" / "benign" / "model.safetensors"
        (project / "model.safetensors").write_bytes(model.read_bytes())
        (project / "config.json").write_text(f'{{"model_type": {HUGE}}}')
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0, capsys.readouterr().err
        return
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert shown in err and "4300 digits" in err and "report this" not in err and "internal error" not in err


def test_json_nested_beyond_the_decoder_is_an_input_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    # A host profile of 100,000 nested arrays was a RecursionError outside any guard: exit 3.
    from governance.cli import main
    from governance.inputs import parse_json

    with pytest.raises(InputError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, "x.json")
    (tmp_path / "host.json").write_text('{"format": "mlgov-host-profile", "version": 1, "nvidia": '
                                        + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "requirements.txt").write_text("numpy==1.26.4\n")
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(tmp_path / "p"), "--host", str(tmp_path / "host.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "host.json" in err and "nested too deeply" in err


def test_a_baseline_report_nested_beyond_the_decoder_is_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    # `--baseline` parsed its JSON itself, without the RecursionError handling: exit 3.
    from governance.cli import main

    (tmp_path / "main.json").write_text('{"format": "mlgov-report", "findings": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "requirements.txt").write_text("numpy==1.26.4\n")
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(tmp_path / "p"), "--baseline", str(tmp_path / "main.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "main.json" in err and "nested too deeply" in err
