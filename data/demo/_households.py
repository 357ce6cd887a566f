"""Families (户号) of the synthetic register.

Every valid person has a 户号 (village code + serial); HOUSEHOLDS_OF_TWO pairs of
persons of one village share a 户号 and a house (families with two disabled
members), and ADDRESS_ONLY_PAIRS of those pairs have no 户号, only the shared
house. The pairs are chosen by a hash of the ID numbers, drawing nothing from the
seeded stream, so every other column of the demo stays as it was.
"""

from __future__ import annotations

import hashlib

from data.demo._records import RESIDENTS_HEADER

__all__ = ["ADDRESS_ONLY_PAIRS", "HOUSEHOLDS_OF_TWO", "assign_households"]

HOUSEHOLDS_OF_TWO = 300
ADDRESS_ONLY_PAIRS = 20
HOUSEHOLD_SERIAL_DIGITS = 4  # 户号 = village code + serial


def _pair_order(a: str, b: str) -> str:
    return hashlib.sha256(f"{a}|{b}".encode()).hexdigest()


def assign_households(rows: list[list[str]], codes: list[str]) -> None:
    """Give each valid person (rows in village order) a 户号; pair HOUSEHOLDS_OF_TWO.

    Candidate pairs are neighbours in the file within one village (the order within
    a village is random) who write the village alike; the pairs taken are those
    with the smallest hash of their ID numbers, none overlapping. The second member
    moves to the first's house; the first ADDRESS_ONLY_PAIRS pairs (by that hash)
    keep no 户号, only the house.
    """
    col = {name: k for k, name in enumerate(RESIDENTS_HEADER)}
    id_col, addr, hh, written = col["公民身份号码"], col["现住址"], col["户号"], col["村（社区）"]
    slots = [
        k
        for k in range(len(rows) - 1)
        if codes[k] == codes[k + 1] and rows[k][written] == rows[k + 1][written]
    ]
    slots.sort(key=lambda k: _pair_order(rows[k][id_col], rows[k + 1][id_col]))
    pairs: list[int] = []
    taken: set[int] = set()
    for k in slots:
        if len(pairs) == HOUSEHOLDS_OF_TWO:
            break
        if k not in taken and k + 1 not in taken:
            pairs.append(k)
            taken |= {k, k + 1}
    partner = {k + 1: k for k in pairs}
    serial: dict[str, int] = {}
    for k, code in enumerate(codes):
        if k in partner:
            rows[k][hh] = rows[partner[k]][hh]
            rows[k][addr] = rows[partner[k]][addr]
            continue
        serial[code] = serial.get(code, 0) + 1
        rows[k][hh] = f"{code}{serial[code]:0{HOUSEHOLD_SERIAL_DIGITS}d}"
    for k in pairs[:ADDRESS_ONLY_PAIRS]:
        rows[k][hh] = rows[k + 1][hh] = ""
