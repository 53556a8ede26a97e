"""Regenerate symgrad/core/parser_tables.json after editing symgrad.lark or upgrading Lark.

    python grammar/make_tables.py
"""

from symgrad.core import tables

if __name__ == "__main__":
    tables.TABLES.write_text(tables.generate(tables.grammar_text()), encoding="utf-8")
    print(f"wrote {tables.TABLES}")
