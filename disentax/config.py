"""Config files (`get_config(arg)`), `field=value` overrides, JSON round trips; one-line errors."""

import ast
import difflib
import importlib
import importlib.util
import json
import pathlib
from typing import Any

import ml_collections

from disentax.errors import UserError

BUILTIN_CONFIGS = pathlib.Path(__file__).parent / "configs"
DEFAULT_CONFIG = "beta_vae"
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def load_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`PATH[:ARG]` -> `get_config(ARG)` of the file at PATH, of the built-in config named PATH,
    or of the module PATH names (`experiments.p02_qlae.config:smoke`).

    Built-in configs live in `disentax/configs/` and are named without `.py` (e.g. `beta_vae:tiny`).
    """
    module, path, arg = _config_module(spec)
    return _call_get_config(module, path, arg)


def load_sweep(spec: str) -> list[ml_collections.ConfigDict]:
    """`PATH[:ARG]` -> `[get_config(a) for a in get_sweep(ARG)]`: the config file's own sweep,
    `get_sweep(arg)` returning the `get_config` argument of each member."""
    module, path, arg = _config_module(spec)
    if not hasattr(module, "get_sweep"):
        raise UserError(
            f"config file {str(path)!r} defines no get_sweep(arg); pass --sweep "
            '"FIELD=VALUES ..." instead'
        )
    try:
        members = list(module.get_sweep(arg or None))
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"{path.name}: get_sweep({arg!r}) failed: {type(e).__name__}: {e}") from e
    if not members:
        raise UserError(f"{path.name}: get_sweep({arg!r}) returned no member")
    configs = [_call_get_config(module, path, member) for member in members]
    first = {}
    for i, config in enumerate(configs):
        j = first.setdefault(to_json(config), i)
        if j != i:
            raise UserError(
                f"{path.name}: get_sweep({arg!r}) gives the same member twice "
                f"({members[j]!r} and {members[i]!r})"
            )
    return configs


def expand_sweep(config: ml_collections.ConfigDict, spec: str) -> list[ml_collections.ConfigDict]:
    """`"seed=0:8 beta=1,2,4,8"` -> one config per point of the product of the value lists.

    A field is a dotted config field or the name of an `objective` field (`beta` means
    `objective.beta`); values are `a:b` (the integers a..b-1) or a comma-separated list. A field
    named twice, or a value listed twice, is an error: it would train the same member twice.
    """
    axes = []
    for token in spec.split():
        name, sep, values = token.partition("=")
        if not sep or not name or not values:
            raise UserError(f"sweep term {token!r} is not of the form FIELD=VALUES")
        if name not in field_names(config) and f"objective.{name}" in field_names(config):
            name = f"objective.{name}"
        if ":" in values:
            low, _, high = values.partition(":")
            try:
                texts = [str(v) for v in range(int(low), int(high))]
            except ValueError:
                raise UserError(
                    f"sweep range {values!r} of {name!r} needs integers, like 0:8"
                ) from None
        else:
            texts = [v for v in values.split(",") if v]
        if not texts:
            raise UserError(f"sweep term {token!r} gives no value")
        if name in dict(axes):
            raise UserError(
                f"sweep names {name!r} twice; give all its values in one term, "
                f"like {name}=0:8 or {name}=1,2,4"
            )
        checked = config.copy_and_resolve_references()
        parsed = [json.dumps(_parsed(checked, name, text)) for text in texts]  # checks name, values
        repeated = sorted({t for t, p in zip(texts, parsed, strict=True) if parsed.count(p) > 1})
        if repeated:
            raise UserError(f"sweep lists the value(s) {', '.join(repeated)} of {name!r} twice")
        axes.append((name, texts))
    if not axes:
        raise UserError('empty sweep; write it like --sweep "seed=0:8 beta=1,2,4,8"')
    configs = [config]
    for name, texts in axes:
        expanded = []
        for c in configs:
            for text in texts:
                member = c.copy_and_resolve_references()
                set_field(member, name, text)
                expanded.append(member)
        configs = expanded
    return configs


def parse_arg(arg: str | None, **defaults: Any) -> ml_collections.ConfigDict:
    """A config argument of `key=value` items and flags, typed by `defaults`:
    `parse_arg("model=ada_ml_vae,k=2,smoke", model="ada_gvae", k=-1, smoke=False)` ->
    `ConfigDict(model="ada_ml_vae", k=2, smoke=True)`.

    Each value takes its default's type (`parse_value`: bool, int, float, str, tuple); a bare word
    is a flag, True, for a bool default. Keys not given keep their defaults. An unknown key, a key
    given twice, a flag that is not a bool or a value of the wrong type is a one-line error. A key
    that names a ConfigDict method (`values`, `items`) is read by subscript: `args["values"]`.
    """
    args, given = dict(defaults), set()
    for item in (arg or "").split(","):
        key, sep, text = (part.strip() for part in item.partition("="))
        if not key and not sep:
            continue
        if key not in defaults:
            raise UserError(
                f"unknown argument {key or item!r}; allowed: {', '.join(sorted(defaults))}"
            )
        if key in given:
            raise UserError(f"argument {key!r} is given twice")
        given.add(key)
        if sep:
            args[key] = parse_value(text, defaults[key], key, what="argument")
        elif isinstance(defaults[key], bool):
            args[key] = True
        else:
            raise UserError(f"argument {key!r} needs a value: {key}=VALUE")
    return ml_collections.ConfigDict(args)


def import_components(config: ml_collections.ConfigDict) -> None:
    """Imports the modules named in `config.components` (dotted module names, e.g.
    `("experiments.p02_qlae.components",)`): the modules that register the datasets, models or
    objectives the config names beyond the library's. `build` calls it first, so a run saved with
    its config is rebuilt in a fresh process; Python imports each module once per process, so
    each registers its components once. A module that does not import is a one-line error."""
    for name in config.get("components", ()):
        try:
            importlib.import_module(name)
        except Exception as e:
            raise UserError(
                f"config.components names the module {name!r}, which does not import: "
                f"{type(e).__name__}: {e}"
            ) from None


def smoke(
    config: ml_collections.ConfigDict, *, metrics: str = "mig", representations: str = "mean"
) -> None:
    """Makes `config` a check that a run works, in place: two steps, a checkpoint, and a minimal
    evaluation (`metrics` on `representations` of 64 samples, two images, two traversal steps).
    The experiment configs' `smoke` flag; the caller picks the tiny model."""
    config.num_steps = 2
    config.log_every_steps = 1
    config.checkpoint_every_steps = 2
    config.eval.metrics = metrics
    config.eval.representations = representations
    config.eval.num_samples = 64
    config.eval.batch_size = 32
    config.eval.num_images = 2
    config.eval.traversal_steps = 2


def _config_module(spec: str | None):
    """(imported config module, its path, the argument) of `PATH[:ARG]`, a built-in name or a
    module's dotted name (`experiments.p02_qlae.config:smoke`)."""
    spec = spec or DEFAULT_CONFIG
    path_str, _, arg = spec.partition(":")
    path = pathlib.Path(path_str)
    if not path.is_file() and (BUILTIN_CONFIGS / f"{path_str}.py").is_file():
        path = BUILTIN_CONFIGS / f"{path_str}.py"
    is_module = "." in path_str and not path_str.endswith(".py") and "/" not in path_str
    if not path.is_file() and not is_module:
        known = ", ".join(builtin_config_names())
        raise UserError(
            f"config {path_str!r} is neither a file nor a built-in config ({known}) nor a "
            "module's dotted name"
        )
    try:
        if path.is_file():
            module_spec = importlib.util.spec_from_file_location(
                f"_disentax_config_{path.stem}", path
            )
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(path_str)
            path = pathlib.Path(module.__file__)
    except Exception as e:
        raise UserError(f"config {path_str!r} failed to import: {type(e).__name__}: {e}") from e
    if not hasattr(module, "get_config"):
        raise UserError(f"config file {str(path)!r} defines no get_config(arg)")
    return module, path, arg


def _call_get_config(module, path: pathlib.Path, arg: str | None) -> ml_collections.ConfigDict:
    try:
        config = module.get_config(arg or None)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"{path.name}: get_config({arg!r}) failed: {type(e).__name__}: {e}") from e
    if not isinstance(config, ml_collections.ConfigDict):
        raise UserError(f"{path.name}: get_config must return an ml_collections.ConfigDict")
    return config


def builtin_config_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_CONFIGS.glob("*.py") if not p.stem.startswith("_"))


def field_names(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    """Every leaf field as a dotted path, e.g. `optimizer.learning_rate`."""
    names = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, ml_collections.ConfigDict):
            names.extend(field_names(value, f"{name}."))
        else:
            names.append(name)
    return names


def apply_overrides(config: ml_collections.ConfigDict, overrides: list[str]) -> None:
    """Applies `field.path=value` strings in place; the value is parsed to the field's type."""
    for override in overrides:
        name, sep, text = override.partition("=")
        if not sep:
            raise UserError(f"override {override!r} is not of the form FIELD=VALUE")
        set_field(config, name.strip(), text)


def set_field(config: ml_collections.ConfigDict, name: str, text: str) -> None:
    """Sets the existing field `name` (dotted) from the string `text`; inside the group
    `dataset_options` (the dataset's keyword options) it may also add a field, parsed as a Python
    literal or else taken as a string."""
    *parents, leaf = name.split(".")
    node = config
    for part in parents:
        node = node.get(part) if isinstance(node, ml_collections.ConfigDict) else None
    is_options = parents == ["dataset_options"] and isinstance(node, ml_collections.ConfigDict)
    if is_options and leaf not in node:
        node[leaf] = _literal_or_string(text.strip())
        return
    if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
        close = difflib.get_close_matches(name, field_names(config), n=3, cutoff=0.5)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else "; run with --help-config to list them"
        )
        raise UserError(f"unknown config field {name!r}{hint}")
    current = node[leaf]
    if isinstance(current, ml_collections.ConfigDict):
        raise UserError(
            f"config field {name!r} is a group; set one of its fields ({name}.FIELD=VALUE)"
        )
    value = parse_value(text, current, name)
    try:
        node[leaf] = value
    except (TypeError, ValueError, KeyError) as e:
        raise UserError(f"config field {name!r} rejects {text!r}: {e}") from None


def _parsed(config: ml_collections.ConfigDict, name: str, text: str) -> Any:
    """The value `text` takes in the field `name` of `config` (set there, in place)."""
    set_field(config, name, text)
    node = config
    for part in name.split("."):
        node = node[part]
    return node


def parse_value(text: str, current: Any, name: str, *, what: str = "config field") -> Any:
    """Parses `text` into the type of the field's current value (bool, int, float, str, tuple);
    errors name it as `what` `name` (a config field, an argument)."""
    kind = type(current).__name__
    stripped = text.strip()
    try:
        if isinstance(current, bool):
            if stripped.lower() in TRUE_WORDS:
                return True
            if stripped.lower() in FALSE_WORDS:
                return False
            raise ValueError
        if isinstance(current, int):
            return int(stripped)
        if isinstance(current, float):
            return float(stripped)
        if isinstance(current, str):
            return _unquote(stripped)
        if isinstance(current, tuple | list):
            parsed = ast.literal_eval(stripped)
            if not isinstance(parsed, tuple | list):
                raise ValueError
            return type(current)(_element_like(v, current) for v in parsed)
        if current is None:
            return _literal_or_string(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        allowed = {
            "bool": "true or false",
            "tuple": "a tuple like (1, 2)",
            "list": "a list like [1, 2]",
            "int": "an int",
        }.get(kind, f"a {kind}")
        raise UserError(f"{what} {name!r} needs {allowed}, got {text!r}") from None
    raise UserError(f"{what} {name!r} holds a {kind}, which cannot be set from the command line")


def _element_like(value: Any, sequence: tuple | list) -> Any:
    if not sequence or isinstance(value, type(sequence[0])):
        return value
    if isinstance(sequence[0], float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise TypeError


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _literal_or_string(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def to_json(config: ml_collections.ConfigDict) -> str:
    return config.to_json(indent=2, sort_keys=True)


def from_json(text: str) -> ml_collections.ConfigDict:
    """Inverse of `to_json` (JSON lists come back as tuples, as config files write them)."""
    return ml_collections.ConfigDict(_tuples(json.loads(text)))


def _tuples(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def differing_fields(
    a: ml_collections.ConfigDict, b: ml_collections.ConfigDict, ignore: tuple[str, ...] = ()
) -> list[str]:
    """Dotted names of the fields whose values differ between two configs (or exist in one only)."""
    flat_a, flat_b = _flatten(json.loads(to_json(a))), _flatten(json.loads(to_json(b)))
    names = sorted(set(flat_a) | set(flat_b))
    return [n for n in names if n not in ignore and flat_a.get(n, ...) != flat_b.get(n, ...)]


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
