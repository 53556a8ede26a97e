"""Regenerate symgrad/core/parser_tables.json after editing symgrad.lark or upgrading Lark.

    python grammar/make_tables.py
"""

from symgrad.core import tables

if __name__ == "__main__":
    with open(tables.TABLES, "w", encoding="utf-8") as file:
        file.write(tables.generate(tables.grammar_text()))
    print(f"wrote {tables.TABLES}")
