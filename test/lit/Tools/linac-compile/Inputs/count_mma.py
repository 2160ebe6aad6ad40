"""Compares the mma.sync instructions of two PTX files (before, after): prints whether the
second has fewer tf32 products (or none) and more bf16 products than the first."""

import sys
from pathlib import Path


def counts(path: str) -> tuple[int, int]:
    text = Path(path).read_text()
    return text.count(".f32.tf32.tf32.f32"), text.count(".f32.bf16.bf16.f32")


(tf32_before, bf16_before), (tf32_after, bf16_after) = counts(sys.argv[1]), counts(sys.argv[2])
if tf32_after == 0 < tf32_before:
    fewer = f"none (from {tf32_before})"
elif tf32_after < tf32_before:
    fewer = "fewer"
else:
    fewer = f"not fewer ({tf32_before} -> {tf32_after})"
more = "more" if bf16_after > bf16_before else f"not more ({bf16_before} -> {bf16_after})"
print(f"tf32 products: {fewer}; bf16 products: {more}")
