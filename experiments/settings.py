"""The setting argument of every paper's `config.py`: `cpu`, `smoke` or `paper` among its keys."""

import ml_collections

from disentax import config as config_lib
from disentax.errors import UserError

SETTINGS = ("cpu", "smoke", "paper")


def parse_setting(
    arg: str | None,
    *,
    default: str = "cpu",
    aliases: dict[str, str] | None = None,
    **keys,
) -> tuple[ml_collections.ConfigDict, str]:
    """`(args, setting)`: `arg` parsed by `config_lib.parse_arg` with `keys`, `steps` (0: the
    setting's; else at least 1) and one flag per setting (or alias, `{alias: setting}`) beside
    them; `setting` is the one named, `default` when none."""
    aliases = aliases or {}
    flags = (*SETTINGS, *aliases)
    args = config_lib.parse_arg(arg, **{"steps": 0, **keys}, **dict.fromkeys(flags, False))
    if args.steps < 0:
        raise UserError(f"steps must be at least 1, got {args.steps}")
    named = [name for name in flags if args[name]]
    if len(named) > 1:
        raise UserError(f"use one of the settings {', '.join(SETTINGS)}, got {', '.join(named)}")
    return args, aliases.get(named[0], named[0]) if named else default
