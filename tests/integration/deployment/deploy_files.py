"""Reading the deploy files in ops/ as a container engine would: the Containerfile's
instructions, compose.yaml's services (with its `${VAR}` interpolation) and the env file."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # locked: Litestar depends on it; no stubs

ROOT = Path(__file__).resolve().parents[3]
OPS = ROOT / "ops"


@dataclass
class Containerfile:
    instructions: list[tuple[str, str]]  # (INSTRUCTION, its arguments), continuations joined
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path = OPS / "Containerfile") -> Containerfile:
        joined = re.sub(r"\\\n", " ", path.read_text())
        instructions = []
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, arguments = line.partition(" ")
                instructions.append((name.upper(), arguments.strip()))
        return cls(instructions)

    def all(self, name: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == name]

    def one(self, name: str) -> str:
        (arguments,) = self.all(name)
        return arguments

    def environment(self, path: str) -> dict[str, str]:
        """Its ENV instructions in order, `$PATH` standing for `path` (the base image's)."""
        env: dict[str, str] = {}
        for arguments in self.all("ENV"):
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value.replace("$PATH", env.get("PATH", path))
        return env

    @property
    def command(self) -> list[str]:
        value = json.loads(self.one("CMD"))
        assert isinstance(value, list)
        return [str(part) for part in value]


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:\?|:-)(?P<word>[^}]*))?\}")


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (an unset or empty VAR with
    `:?` is the error compose reports)."""

    def value(match: re.Match[str]) -> str:
        name, op, word = match["name"], match["op"], match["word"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise ValueError(f"compose.yaml: {name}: {word}")
        return word if op == ":-" else ""

    return _VARIABLE.sub(value, text)


def compose(variables: dict[str, str], path: Path = OPS / "compose.yaml") -> dict[str, Any]:
    """compose.yaml as compose reads it with `variables` in its shell."""
    loaded = yaml.safe_load(interpolate(path.read_text(), variables))
    assert isinstance(loaded, dict)
    return loaded


def env_file(path: Path) -> dict[str, str]:
    """A compose env file: NAME=value lines, the value taken as written."""
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value
    return env


def readme_commands(path: Path = OPS / "README.md") -> set[str]:
    """Every `booking …` command the operators' README gives, in code spans or blocks."""
    text = path.read_text()
    spans = re.findall(r"`([^`\n]+)`", text) + re.findall(r"^\s*(booking .+)$", text, re.M)
    return {" ".join(span.split("#")[0].split()) for span in spans if span.startswith("booking ")}
