"""A deterministic, offline embedding for tests: letter counts, normalised.

Texts made of the same letters get the same vector, so search order is predictable."""

import math

DIMS = 26


def embed(texts: list[str]) -> list[list[float]]:
    vectors = []
    for text in texts:
        counts = [0.0] * DIMS
        for ch in text.lower():
            if "a" <= ch <= "z":
                counts[ord(ch) - ord("a")] += 1.0
        norm = math.sqrt(sum(c * c for c in counts)) or 1.0
        vectors.append([c / norm for c in counts])
    return vectors
