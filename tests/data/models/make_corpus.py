"""Write the model corpus: benign files made by the real libraries, malicious files for each trick.

    python -m venv /tmp/gen && /tmp/gen/bin/pip install -r tests/data/models/requirements.txt
    /tmp/gen/bin/python tests/data/models/make_corpus.py

Every malicious payload's only effect, if the file were ever loaded, is to
create a file named `mlgov-marker` (or `mlgov-marker-*`) in the current folder:
tests scan the corpus from an empty folder and assert no marker appears.
The corpus is committed; this script is how it was made (re-run it to refresh).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENIGN = HERE / "benign"
EVIL = HERE / "malicious"
MARK = "mlgov-marker"


def op_str(s: str) -> bytes:
    raw = s.encode()
    return b"\x8c" + bytes([len(raw)]) + raw if len(raw) < 256 else b"X" + struct.pack("<I", len(raw)) + raw


def proto(n: int = 4) -> bytes:
    return b"\x80" + bytes([n])


def call_global(module: str, name: str, *args: str, protocol: int = 4) -> bytes:
    """module.name(*args) via STACK_GLOBAL and REDUCE."""
    body = op_str(module) + op_str(name) + b"\x93" + b"(" + b"".join(op_str(a) for a in args) + b"tR"
    return proto(protocol) + body + b"."


def torch_zip(path: Path, data_pkl: bytes, extra: list[tuple[str, bytes]] | None = None, prefix: str = "archive",
              compress: int = zipfile.ZIP_STORED) -> None:
    """torch's exact zip layout: <prefix>/data.pkl, byteorder, data/0, version, .data/serialization_id."""
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr(f"{prefix}/data.pkl", data_pkl)
        z.writestr(f"{prefix}/byteorder", "little")
        z.writestr(f"{prefix}/data/0", struct.pack("<4f", 1, 2, 3, 4))
        z.writestr(f"{prefix}/version", "3\n")
        z.writestr(f"{prefix}/.data/serialization_id", "1234567890")
        for name, data in extra or []:
            z.writestr(name, data)


def benign() -> None:
    import numpy as np

    shutil.rmtree(BENIGN, ignore_errors=True)
    BENIGN.mkdir(parents=True)
    rng = np.random.default_rng(0)
    w = {"dense.weight": rng.standard_normal((4, 3)).astype("float32"), "dense.bias": np.zeros(4, "float32")}

    from safetensors.numpy import save_file

    save_file(w, str(BENIGN / "model.safetensors"), metadata={"format": "np"})
    save_file(w, str(BENIGN / "safetensors-named.bin"))  # a safetensors file named .bin is safetensors

    np.save(BENIGN / "array.npy", w["dense.weight"])
    np.savez(BENIGN / "arrays.npz", **{k.replace(".", "_"): v for k, v in w.items()})
    np.savez_compressed(BENIGN / "arrays-compressed.npz", a=np.arange(10))

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    init = numpy_helper.from_array(w["dense.weight"], "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"])], "tiny",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 3])], [init])
    model = helper.make_model(graph, producer_name="mlgov-corpus")
    onnx.save_model(model, str(BENIGN / "model.onnx"))
    ext = BENIGN / "onnx-external"
    ext.mkdir()
    onnx.save_model(model, str(ext / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    km = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="hidden"), keras.layers.Dense(1, name="out")])
    km.save(BENIGN / "model.keras")
    km.save(BENIGN / "legacy.h5")
    km.save_weights(BENIGN / "only.weights.h5")

    import h5py

    with h5py.File(BENIGN / "dataset-not-a-model.h5", "w") as f:
        f["x"] = np.arange(5)

    import joblib
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = rng.standard_normal((30, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    joblib.dump(clf, BENIGN / "pipeline.joblib")
    joblib.dump(clf, BENIGN / "pipeline-zlib.joblib", compress=("zlib", 3))
    joblib.dump(clf, BENIGN / "pipeline.joblib.gz", compress=("gzip", 3))
    forest = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
    with open(BENIGN / "forest.pkl", "wb") as f:
        pickle.dump(forest, f, protocol=5)
    with open(BENIGN / "forest-protocol0.pkl", "wb") as f:
        pickle.dump({"weights": [1.0, 2.0], "name": "tiny"}, f, protocol=0)

    import gguf

    writer = gguf.GGUFWriter(str(BENIGN / "model.gguf"), "llama")
    writer.add_name("tiny")
    writer.add_tensor("token_embd.weight", rng.standard_normal((8, 4)).astype("float32"))
    writer.add_tensor("output.weight", rng.standard_normal((8, 4)).astype("float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    import torch

    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    torch.save(tm.state_dict(), BENIGN / "model.pt")
    torch.save(tm.state_dict(), BENIGN / "torch-zip-named.ckpt")  # a torch zip named .ckpt is a torch zip
    torch.save(tm.state_dict(), BENIGN / "legacy.pth", _use_new_zipfile_serialization=False)
    torch.save({"epoch": 3, "best": np.float64(0.9), "state": tm.state_dict()}, BENIGN / "checkpoint.pt")
    torch.jit.save(torch.jit.script(tm), BENIGN / "scripted.pt")

    snap = BENIGN / "hub" / "models--acme--tiny-bert" / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snap.mkdir(parents=True)
    save_file(w, str(snap / "model.safetensors"))
    (snap / "config.json").write_text(json.dumps({"architectures": ["BertForMaskedLM"], "model_type": "bert"}))
    (BENIGN / "README.md").write_text("Benign models made by the real libraries (tests/data/models/make_corpus.py).\n")


def evil() -> None:
    shutil.rmtree(EVIL, ignore_errors=True)
    EVIL.mkdir(parents=True)
    touch = f"touch {MARK}"
    cases: dict[str, bytes] = {}
    # The classic: os.system by GLOBAL (protocol 2) and by STACK_GLOBAL (protocol 4).
    cases["os-system.pkl"] = proto(2) + b"cposix\nsystem\n" + op_str(touch) + b"\x85R."
    cases["os-system-stack-global.pkl"] = call_global("os", "system", touch)
    # Protocol 0 text, and the Python 2 module name the loader maps (__builtin__ -> builtins).
    cases["exec-protocol0.pkl"] = f"c__builtin__\nexec\n(S'open(\"{MARK}\", \"w\")'\ntR.".encode()
    # INST and OBJ call without a REDUCE (picklescan issue #13).
    cases["inst.pkl"] = f"(S'open(\"{MARK}\", \"w\")'\nibuiltins\nexec\n.".encode()
    cases["obj.pkl"] = proto(2) + b"(cbuiltins\nexec\n" + op_str(f'open("{MARK}", "w")') + b"o."
    # Memo confusion (picklescan issue #14): BINPUT and MEMOIZE mixed so a scanner
    # that tracks only MEMOIZE thinks memo[0] holds a safe name.
    cases["memo-confusion.pkl"] = (proto(4) + op_str("os") + b"q\x00" + op_str("system") + b"q\x01"
                                   + op_str("torch._utils") + b"\x94" + op_str("_rebuild_tensor_v2") + b"\x94"
                                   + b"0000h\x00h\x01\x93" + op_str(touch) + b"\x85R.")
    # Universal indirections that a block-list misses (GHSA-vvpj-8cmc-gx39 and follow-ups).
    cases["pkgutil-resolve-name.pkl"] = (proto(4) + op_str("pkgutil") + op_str("resolve_name") + b"\x93"
                                         + op_str("os:system") + b"\x85R" + op_str(touch) + b"\x85R.")
    cases["importlib-getattr.pkl"] = (proto(4) + op_str("builtins") + op_str("getattr") + b"\x93"
                                      + op_str("importlib") + op_str("import_module") + b"\x93"
                                      + op_str("os") + b"\x85R" + op_str("system") + b"\x86R"
                                      + op_str(touch) + b"\x85R.")
    cases["pip-main.pkl"] = (proto(4) + op_str("pip") + op_str("main") + b"\x93" + b"(" + b"("
                             + b"".join(op_str(a) for a in ("install", "--dry-run", "--no-index", "--quiet",
                                                            "--report", MARK, "pip"))
                             + b"ltR.")
    cases["timeit.pkl"] = call_global("timeit", "timeit", f'open("{MARK}-timeit", "w")')
    cases["cprofile-run.pkl"] = call_global("cProfile", "run", f'open("{MARK}-cprofile", "w")')
    cases["runpy-submodule.pkl"] = call_global("runpy", "_run_code", f'open("{MARK}-runpy", "w")')
    cases["asyncio-subprocess.pkl"] = call_global("asyncio.subprocess", "create_subprocess_shell", touch)
    cases["marshal-loads.pkl"] = call_global("marshal", "loads", "")
    cases["ctypes-cdll.pkl"] = call_global("ctypes", "CDLL", "libc.so.6")
    # A dotted name resolved attribute by attribute (protocol 4): starts at an allowed module.
    cases["dotted-name.pkl"] = call_global("collections", "OrderedDict.__init__.__globals__", "x")
    # BUILD that rewires an allowed global's attributes before it is called.
    cases["build-on-global.pkl"] = (proto(2) + b"ccollections\nOrderedDict\n" + b"}"
                                    + op_str("fromkeys") + b"cbuiltins\nexec\ns" + b"b.")
    # An extension code: imports whatever the loading process registered with copyreg.
    cases["extension-code.pkl"] = proto(2) + b"\x82\x01" + op_str(touch) + b"\x85R."
    # Truncated after the call: pickle.load has run os.system when it fails.
    cases["truncated-after-call.pkl"] = proto(2) + b"cposix\nsystem\n" + op_str(touch) + b"\x85R"
    # A benign first pickle and a malicious second one (a loader that calls load() twice).
    cases["second-pickle.pkl"] = pickle.dumps({"ok": 1}, protocol=4) + call_global("os", "system", touch)
    # Renamed: a pickle that calls itself safetensors, or text.
    cases["renamed.safetensors"] = call_global("os", "system", touch)
    cases["renamed-model.txt"] = call_global("os", "system", touch)
    # Pickle/zip polyglot: torch.load and pickle.load read the pickle at the start;
    # a scanner that trusts zipfile.is_zipfile reads only the (benign) zip at the end.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    cases["polyglot.pt"] = call_global("os", "system", touch) + buf.getvalue()
    for name, data in cases.items():
        (EVIL / name).write_bytes(data)

    import numpy as np

    class Touch:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (touch,))

    # NumPy: an object array's pickle after the .npy header; an .npz member that is one.
    np.save(EVIL / "object-array.npy", np.array([1, Touch()], dtype=object), allow_pickle=True)
    np.savez(EVIL / "object-member.npz", ok=np.arange(3), bad=np.array([Touch()], dtype=object))
    import joblib

    joblib.dump({"model": np.array([Touch()], dtype=object)}, EVIL / "object-array.joblib")
    joblib.dump({"weights": np.arange(4), "hook": Touch()}, EVIL / "payload-zlib.joblib", compress=3)

    # torch zips: payload in data.pkl, named .ckpt; a bad CRC; duplicate names; a name leaving
    # the archive; a second pickle under another prefix; the encrypted flag bit set.
    payload = call_global("os", "system", touch, protocol=2)
    benign_pkl = pickle.dumps({"w": 1}, protocol=2)
    torch_zip(EVIL / "torch-payload.ckpt", payload)
    torch_zip(EVIL / "torch-bad-crc.pt", payload)
    _corrupt_crc(EVIL / "torch-bad-crc.pt", "archive/data.pkl")
    with zipfile.ZipFile(EVIL / "torch-duplicate.pt", "w") as z:
        z.writestr("archive/data.pkl", benign_pkl)
        z.writestr("archive/version", "3\n")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("archive/data.pkl", payload)
    torch_zip(EVIL / "torch-outside.pt", benign_pkl, extra=[("../../evil.pkl", payload)])
    torch_zip(EVIL / "torch-second-prefix.pt", benign_pkl, extra=[("other/data.pkl", payload)])
    torch_zip(EVIL / "torch-flag-bit.pt", payload)
    _set_flag_bit(EVIL / "torch-flag-bit.pt")
    # Legacy torch: the payload in sys_info, the third of the five pickles.
    legacy = (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
              + call_global("os", "system", touch, protocol=2) + pickle.dumps({}, protocol=2)
              + pickle.dumps([], protocol=2))
    (EVIL / "legacy-sysinfo.pth").write_bytes(legacy)
    # The pre-0.4 tar checkpoint (members sys_info, pickle, tensors, storages): the payload in `pickle`.
    import tarfile

    with tarfile.open(EVIL / "legacy-tar.pt", "w") as tar:
        for member, data in (("sys_info", pickle.dumps({"protocol_version": 1000}, protocol=2)),
                             ("pickle", payload), ("tensors", pickle.dumps(0, protocol=2)),
                             ("storages", pickle.dumps(0, protocol=2))):
            info = tarfile.TarInfo(member)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))

    # Keras: a Lambda layer (marshalled bytecode), a class from a module outside Keras.
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    km = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2, name="double"),
                           keras.layers.Dense(1)])
    km.save(EVIL / "lambda.keras")
    km.save(EVIL / "lambda.h5")
    shutil.copy(EVIL / "lambda.keras", EVIL / "outside-module.keras")
    _rewrite_keras_config(EVIL / "outside-module.keras")

    # ONNX external data: a path leaving the folder, an absolute path.
    import onnx
    from onnx import TensorProto, helper

    for name, location in (("onnx-escape.onnx", "../../outside.bin"), ("onnx-absolute.onnx", "/etc/hostname")):
        tensor = helper.make_tensor("W", TensorProto.FLOAT, [1], [0.0])
        tensor.ClearField("float_data")
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
        graph = helper.make_graph([helper.make_node("Identity", ["W"], ["Y"])], "g", [],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])], [tensor])
        (EVIL / name).write_bytes(helper.make_model(graph).SerializeToString())

    # safetensors: a header that claims more bytes than the file has; one that is not JSON;
    # offsets past the end of the data.
    (EVIL / "safetensors-huge-header.safetensors").write_bytes(struct.pack("<Q", 10**12) + b'{"a":1}')
    (EVIL / "safetensors-not-json.safetensors").write_bytes(struct.pack("<Q", 8) + b"{not js}" + b"\0" * 8)
    header = json.dumps({"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}).encode()
    (EVIL / "safetensors-short-data.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)

    # GGUF: impossible counts; a chat template that reaches Python internals.
    (EVIL / "gguf-counts.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 2**40, 2**40))
    import gguf

    writer = gguf.GGUFWriter(str(EVIL / "gguf-template.gguf"), "llama")
    writer.add_chat_template("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    writer.add_tensor("w", np.zeros(4, "float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # TensorFlow SavedModel with a PyFunc op (hand-written protobuf: GraphDef.node{name, op}).
    node = b"\x0a\x01p" + b"\x12\x06PyFunc"
    graph_def = b"\x0a" + bytes([len(node)]) + node
    meta_graph = b"\x12" + bytes([len(graph_def)]) + graph_def
    saved = b"\x08\x01" + b"\x12" + bytes([len(meta_graph)]) + meta_graph
    (EVIL / "savedmodel").mkdir()
    (EVIL / "savedmodel" / "saved_model.pb").write_bytes(saved)
    (EVIL / "README.md").write_text(
        "Malicious model corpus (tests/data/models/make_corpus.py). Every payload's only effect, were the\n"
        f"file loaded, is to create a file named {MARK}* in the current folder. Do not load these files.\n")


def _corrupt_crc(path: Path, member: str) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    # CRC-32 sits at offset 14 of the local header and 16 of the central header.
    struct.pack_into("<I", data, info.header_offset + 14, info.CRC ^ 0xFFFF)
    central = data.rfind(b"PK\x01\x02" + data[data.find(b"PK\x01\x02") + 4:data.find(b"PK\x01\x02") + 12])
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len].decode() == member:
            struct.pack_into("<I", data, at + 16, info.CRC ^ 0xFFFF)
        at = data.find(b"PK\x01\x02", at + 4)
    del central
    path.write_bytes(bytes(data))


def _set_flag_bit(path: Path) -> None:
    """Set general-purpose bit 0 (encrypted) on every member: zipfile refuses, torch reads on."""
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            flags = struct.unpack_from("<H", data, at + flag_at)[0]
            struct.pack_into("<H", data, at + flag_at, flags | 1)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def _rewrite_keras_config(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer.get("class_name") == "Lambda":
            layer["class_name"], layer["module"], layer["registered_name"] = "Helper", "mlgov_marker_pkg", "Helper"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    benign()
    evil()
    print(f"wrote {sum(1 for _ in BENIGN.rglob('*') if _.is_file())} benign and "
          f"{sum(1 for _ in EVIL.rglob('*') if _.is_file())} malicious files")
