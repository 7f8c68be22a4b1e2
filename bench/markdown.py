"""Markdown of the results: numbers, median (min–max) cells, tables."""

from __future__ import annotations


def num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "ms" or abs(value) < 10:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def cell(value: dict[str, float] | None, unit: str) -> str:
    if value is None:
        return "—"
    if value["min"] == value["max"]:
        return num(value["median"], unit)
    lo, hi = num(value["min"], unit), num(value["max"], unit)
    return f"{num(value['median'], unit)} ({lo}–{hi})"


def table(header: list[str], lines: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return out
