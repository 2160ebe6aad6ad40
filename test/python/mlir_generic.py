"""A parser of MLIR's generic op form (`--mlir-print-op-generic`), enough for the GPU
kernels gpu_emulator.py runs: ops with their operands, results, properties, attributes,
signature and regions, one op a line as MLIR prints them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class EmulationError(RuntimeError):
    """Input the parser or the emulator does not handle, or a fault in the kernel."""


@dataclass
class Block:
    args: list[tuple[str, str]]
    ops: list[Op] = field(default_factory=list)


@dataclass
class Op:
    results: list[str]
    name: str
    operands: list[str]
    properties: str = ""
    attributes: str = ""
    operand_types: list[str] = field(default_factory=list)
    result_types: list[str] = field(default_factory=list)
    regions: list[list[Block]] = field(default_factory=list)

    def prop(self, key: str) -> str:
        match = re.search(rf"\b{key} = ([^,}}]+(?:<[^>]*>)?)", self.properties + self.attributes)
        if not match:
            raise EmulationError(f"{self.name}: no {key}")
        return match.group(1).strip()

    def segments(self) -> list[int]:
        """How many operands each operand group of the op has (operandSegmentSizes)."""
        match = re.search(r"operandSegmentSizes = array<i32: ([^>]*)>", self.properties)
        if not match:
            raise EmulationError(f"{self.name}: no operandSegmentSizes")
        return [int(s) for s in match.group(1).split(",")]

    def array(self, key: str) -> list[int]:
        match = re.search(rf"\b{key} = array<i64(?:: ([^>]*))?>", self.properties)
        if not match:
            raise EmulationError(f"{self.name}: no {key}")
        return [int(x) for x in match.group(1).split(",")] if match.group(1) else []


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at the separators outside <>, (), [] and {}."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "<([{":
            depth += 1
        elif char in ">)]}":
            depth -= 1
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def skip_group(text: str, start: int, opening: str, closing: str) -> int:
    """The index after the group that opens at `start`."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    raise EmulationError(f"unbalanced {opening}{closing} in {text!r}")


def parse_tail(op: Op, tail: str) -> None:
    """Properties, attributes and the signature after an op's operands (or regions)."""
    tail = tail.strip()
    if tail.startswith("<{"):
        end = skip_group(tail, 1, "{", "}") + 1
        op.properties, tail = tail[2 : end - 2], tail[end:].strip()
    if tail.startswith("{"):
        end = skip_group(tail, 0, "{", "}")
        op.attributes, tail = tail[1 : end - 1], tail[end:].strip()
    if not tail.startswith(": ("):
        raise EmulationError(f"{op.name}: no signature in {tail!r}")
    end = skip_group(tail, 2, "(", ")")
    op.operand_types = split_top_level(tail[3 : end - 1])
    results = tail[end:].strip().removeprefix("->").strip()
    if results.startswith("(") and results.endswith(")"):
        results = results[1:-1]
    op.result_types = split_top_level(results)


OP_LINE = re.compile(r'^(?:(%[\w]+)(?::(\d+))? = )?"([\w.]+)"\((.*?)\)(.*)$')


def parse(text: str) -> Op:
    """The top-level op of a module printed in the generic form."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    stack: list[Op] = []
    root: list[Op] = []

    def current_ops() -> list[Op]:
        return stack[-1].regions[-1][-1].ops if stack else root

    for line in lines:
        if line.startswith("^bb"):
            match = re.match(r"\^bb\d+(?:\((.*)\))?:$", line)
            args = [tuple(part.split(": ", 1)) for part in split_top_level(match.group(1) or "")]
            region = stack[-1].regions[-1]
            if region and not region[-1].ops and not region[-1].args:
                region[-1].args = args
            else:
                region.append(Block(args))
            continue
        if line == "}, {":
            stack[-1].regions.append([Block([])])
            continue
        if line.startswith("})"):
            op = stack.pop()
            parse_tail(op, line[2:])
            continue
        match = OP_LINE.match(line)
        if not match:
            raise EmulationError(f"cannot parse {line!r}")
        result, count, name, operands, tail = match.groups()
        results = (
            []
            if not result
            else [result]
            if not count
            else [f"{result}#{i}" for i in range(int(count))]
        )
        op = Op(results, name, [o for o in split_top_level(operands)])
        current_ops().append(op)
        if tail.rstrip().endswith("({"):
            head = tail.rstrip()[:-2].strip()
            if head.startswith("<{"):
                op.properties = head[2 : skip_group(head, 1, "{", "}") - 1]
            op.regions.append([Block([])])
            stack.append(op)
        else:
            parse_tail(op, tail)
    return root[0]
