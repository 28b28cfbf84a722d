#!/usr/bin/env python3
"""Generate protocol/models/<service>.json from the installed botocore.

For every service in protocol/operations.toml this reads botocore's
``data/<service>/<api-version>/service-2.json.gz`` and writes a trimmed copy:

* ``metadata``   -- as in botocore, minus documentation-like keys;
* ``operations`` -- only the allow-listed ones, documentation removed;
* ``shapes``     -- exactly the shapes reachable from those operations'
                    input, output and errors.

Every ``documentation``/``documentationUrl``/``examples``/``deprecatedMessage``
key is removed at every level; everything else is kept verbatim. Top-level
``operations`` and ``shapes`` are sorted by name; the key order *inside* an
operation or shape is botocore's (member order is significant).

Usage:
    python3 protocol/trim_models.py           # (re)write the model files
    python3 protocol/trim_models.py --check   # exit 1 if they are out of date

Standard library only (Python >= 3.11 for tomllib).
"""

import argparse
import gzip
import json
import os
import sys
import tomllib

BOTOCORE_VERSION = "1.43.11"

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOW_LIST = os.path.join(HERE, "operations.toml")
MODELS_DIR = os.path.join(HERE, "models")

# Keys removed wherever they appear (metadata, operations, shapes, refs).
DROP_KEYS = frozenset(
    {"documentation", "documentationUrl", "examples", "deprecatedMessage"}
)

# Shape keys that hold a single shape reference.
SINGLE_REF_KEYS = ("member", "key", "value")


class TrimError(Exception):
    pass


def load_botocore_data_dir():
    try:
        import botocore
    except ImportError as exc:
        raise TrimError(
            f"botocore is not installed; run: pip install botocore=={BOTOCORE_VERSION}"
        ) from exc
    if botocore.__version__ != BOTOCORE_VERSION:
        raise TrimError(
            f"botocore {BOTOCORE_VERSION} is required, but {botocore.__version__} "
            f"is installed ({botocore.__file__}); "
            f"run: pip install botocore=={BOTOCORE_VERSION}"
        )
    return os.path.join(os.path.dirname(botocore.__file__), "data")


def strip_docs(value, names=False):
    """Deep copy of a JSON value without documentation keys, order preserved.

    With names=True the dict's keys are names chosen by the model author (the
    members of a structure), so none of them is dropped -- a member may well be
    called "examples" -- but each value is still stripped.
    """
    if isinstance(value, dict):
        return {
            k: strip_docs(v, names=(k == "members" and not names))
            for k, v in value.items()
            if names or k not in DROP_KEYS
        }
    if isinstance(value, list):
        return [strip_docs(v) for v in value]
    return value


def shape_refs(shape):
    """Names of the shapes referenced directly by one shape."""
    for member in shape.get("members", {}).values():
        yield member["shape"]
    for key in SINGLE_REF_KEYS:
        if key in shape:
            yield shape[key]["shape"]


def operation_refs(op):
    for key in ("input", "output"):
        if key in op:
            yield op[key]["shape"]
    for err in op.get("errors", []):
        yield err["shape"]


def trim(service, model_dir, wanted_ops, data_dir):
    path = os.path.join(data_dir, model_dir, "service-2.json.gz")
    if not os.path.isfile(path):
        raise TrimError(f"{service}: botocore model not found: {path}")
    with gzip.open(path, "rb") as fh:
        model = json.load(fh)

    all_ops = model["operations"]
    all_shapes = model["shapes"]

    missing = [name for name in wanted_ops if name not in all_ops]
    if missing:
        raise TrimError(
            f"{service}: operations not in botocore model {model_dir}: "
            + ", ".join(missing)
        )

    # Transitive closure over shape references.
    reachable = set()
    pending = [ref for name in wanted_ops for ref in operation_refs(all_ops[name])]
    while pending:
        name = pending.pop()
        if name in reachable:
            continue
        if name not in all_shapes:
            raise TrimError(f"{service}: dangling shape reference {name!r}")
        reachable.add(name)
        pending.extend(shape_refs(all_shapes[name]))

    return {
        "metadata": strip_docs(model["metadata"]),
        "operations": {name: strip_docs(all_ops[name]) for name in sorted(wanted_ops)},
        "shapes": {name: strip_docs(all_shapes[name]) for name in sorted(reachable)},
    }


def load_allow_list():
    with open(ALLOW_LIST, "rb") as fh:
        config = tomllib.load(fh)
    services = {}
    for service, table in config.items():
        if not isinstance(table, dict):
            raise TrimError(f"{ALLOW_LIST}: [{service}] must be a table")
        model_dir = table.get("model")
        ops = table.get("operations")
        if not isinstance(model_dir, str):
            raise TrimError(f"{ALLOW_LIST}: [{service}] needs model = \"<name>/<version>\"")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise TrimError(f"{ALLOW_LIST}: [{service}] needs operations = [\"...\", ...]")
        dupes = sorted({o for o in ops if ops.count(o) > 1})
        if dupes:
            raise TrimError(f"{service}: duplicate operations: " + ", ".join(dupes))
        services[service] = (model_dir, ops)
    return services


def render(model):
    return json.dumps(model, indent=1, ensure_ascii=False) + "\n"


def generate():
    """Return {file name: file contents} for every configured service."""
    data_dir = load_botocore_data_dir()
    out = {}
    for service, (model_dir, ops) in load_allow_list().items():
        out[f"{service}.json"] = render(trim(service, model_dir, ops, data_dir))
    return out


def check(files):
    stale = []
    for name, text in files.items():
        path = os.path.join(MODELS_DIR, name)
        try:
            with open(path, "rb") as fh:
                current = fh.read()
        except FileNotFoundError:
            stale.append(f"{name} (missing)")
            continue
        if current != text.encode("utf-8"):
            stale.append(f"{name} (differs)")
    if os.path.isdir(MODELS_DIR):
        for name in sorted(os.listdir(MODELS_DIR)):
            if name.endswith(".json") and name not in files:
                stale.append(f"{name} (not produced by operations.toml)")
    if stale:
        print("protocol/models is out of date:", file=sys.stderr)
        for line in stale:
            print(f"  {line}", file=sys.stderr)
        print("run: python3 protocol/trim_models.py", file=sys.stderr)
        return 1
    print(f"protocol/models is up to date ({len(files)} files)")
    return 0


def write(files):
    os.makedirs(MODELS_DIR, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(MODELS_DIR, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        model = json.loads(text)
        print(
            f"wrote {os.path.relpath(path)}: {len(text.encode('utf-8'))} bytes, "
            f"{len(model['operations'])} operations, {len(model['shapes'])} shapes"
        )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit non-zero if protocol/models differs from the output",
    )
    args = parser.parse_args(argv)
    try:
        files = generate()
    except TrimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return check(files) if args.check else write(files)


if __name__ == "__main__":
    sys.exit(main())
