"""The `alexnet` command's config keys: the help table read from the Config's fields, the
`--key value` / `--key=value` forms turned into `key=value`, and the one line that names
the package (and the extra) a missing import needs.
"""
from __future__ import annotations

import json
from dataclasses import fields

from .config import (CHOICES, FALSE, FIELD_TYPES, RANGES, RENAMED, TRUE, Config, ConfigError, HELP,
                     range_text, valid_keys)

# What `paper` adds on CUDA (devices.cuda_speed), for `alexnet list` and the help.
PAPER_ON_CUDA = ("on CUDA, `paper` also sets workers (from the CPU cores), precision=bf16 (fp16 with a "
                 "GradScaler where the GPU has no bf16) and channels_last=true, each unless the "
                 "experiment or you set it")


# A missing optional package -> how to install it (pyproject.toml's extras; `make venv` has them all).
INSTALL = {
    "tensorboard": "pip install -e '.[tensorboard]'",
    "d2l": "pip install -e '.[d2l]' && pip install --no-deps d2l==1.0.3",
    "requests": "pip install -e '.[d2l]'",
    "scipy": "pip install -e . (scipy is one of alexnet's dependencies)",
    "IPython": "pip install -e '.[jupyter]'",
    "ipywidgets": "pip install -e '.[jupyter]'",
}


def missing_module(err: ModuleNotFoundError) -> str | None:
    """One line for an uninstalled package: its name and the command that installs it."""
    top = (err.name or "").split(".")[0]
    if not top:
        return None
    how = INSTALL.get(top, "pip install -e '.[book,test,d2l,jupyter,tensorboard]' (`make venv` installs every extra)")
    return f"this needs the {top} package, which is not installed — {how}"


def keys_help() -> str:
    """Every Config key: type, default, allowed values and meaning (the fields' metadata)."""
    lines = [f"config keys (key=value, --key value or --key=value; {', '.join(RENAMED)}= is read as "
             f"{', '.join(RENAMED.values())}=):", f"  {'key':17s} {'type':5s} {'default':15s} allowed — meaning"]
    for f in fields(Config):
        allowed = " | ".join(map(str, CHOICES[f.name])) if f.name in CHOICES else range_text(f.name) \
            if f.name in RANGES else "true | false" if f.type == "bool" else "any"
        lines.append(f"  {f.name:17s} {f.type:5s} {json.dumps(f.default):15s} {allowed} — {f.metadata['meaning']}")
    return "\n".join(lines) + f"\n\nThe preset sets some keys first (`alexnet list`); {PAPER_ON_CUDA}."


def config_args(argv: list[str], own: set[str]) -> list[str]:
    """`--key value` and `--key=value` of the Config's keys as `key=value` (an option of the
    command itself, in `own`, stays as it is: visualize's --out). A boolean key's value may be
    left out: `--nesterov` is `nesterov=true`."""
    keys, out, rest = set(valid_keys()) | set(RENAMED), [], list(argv)
    while rest:
        item = rest.pop(0)
        name, eq, value = item[2:].partition("=")
        key = name.replace("-", "_")
        if not item.startswith("--") or f"--{name}" in own or key not in keys:
            out.append(item)
            continue
        if not eq:
            boolean = FIELD_TYPES.get(RENAMED.get(key, key)) == "bool"
            if boolean and not (rest and rest[0].lower() in TRUE + FALSE):
                value = "true"
            elif not rest:
                raise ConfigError(f"{item} needs a value: {item} VALUE or {key}=VALUE ({HELP})")
            else:
                value = rest.pop(0)
        out.append(f"{key}={value}")
    return out
