#!/usr/bin/env python3
"""The peers of `oneclass bench queries`: DuckDB and Polars over the same Parquet files.

    python3 bench/peers.py PARQUET_ROOT QUERY_DIR [ENGINE ...]

PARQUET_ROOT holds one folder of Parquet files per table (`daily_marks/`, `schools/` …), each
registered under the folder's name. QUERY_DIR holds the queries, one `*.sql` file each. Every
query runs once in a fresh connection (cold: connection, table registration and first run), then
five more times in that connection (hot: the median). ENGINE (duckdb, polars; both when none is
named) chooses the peers; one not chosen is reported as not run. Prints one JSON document on stdout.
"""

import decimal
import json
import os
import statistics
import sys
import time

HOT_RUNS = 5


def tables(root):
    return sorted(
        d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
    )


def queries(folder):
    return [
        (f[: -len(".sql")], open(os.path.join(folder, f), encoding="utf-8").read())
        for f in sorted(os.listdir(folder))
        if f.endswith(".sql")
    ]


def cell(v):
    # JSON numbers for numbers, strings for everything else: what the Rust side compares.
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)


def measure(fresh, run):
    """fresh() → a session; run(session) → (columns, rows). Cold is fresh + first run."""
    started = time.perf_counter()
    session = fresh()
    columns, rows = run(session)
    cold = time.perf_counter() - started
    hot = []
    for _ in range(HOT_RUNS):
        started = time.perf_counter()
        run(session)
        hot.append(time.perf_counter() - started)
    return {
        "cold_s": cold,
        "hot_s": statistics.median(hot),
        "hot_runs_s": hot,
        "columns": columns,
        "rows": [[cell(v) for v in row] for row in rows],
    }


def duckdb_engine(root, names, qs):
    import duckdb

    def fresh():
        con = duckdb.connect()
        for t in names:
            path = os.path.join(root, t, "*.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{path}')")
        return con

    def runner(sql):
        def run(con):
            cur = con.execute(sql)
            rows = cur.fetchall()
            return [d[0] for d in cur.description], rows

        return run

    return duckdb.__version__, {name: measure(fresh, runner(sql)) for name, sql in qs}


def polars_engine(root, names, qs):
    import polars as pl

    def fresh():
        ctx = pl.SQLContext()
        for t in names:
            ctx.register(t, pl.scan_parquet(os.path.join(root, t, "*.parquet")))
        return ctx

    def runner(sql):
        def run(ctx):
            df = ctx.execute(sql, eager=False).collect()
            return df.columns, df.rows()

        return run

    return pl.__version__, {name: measure(fresh, runner(sql)) for name, sql in qs}


def main():
    engines = ("duckdb", "polars")
    chosen = sys.argv[3:] or list(engines)
    if len(sys.argv) < 3 or any(e not in engines for e in chosen):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import duckdb  # noqa: F401
        import polars  # noqa: F401
    except ImportError as e:
        print(f"{e}: install the peers with `python3 -m pip install duckdb polars`", file=sys.stderr)
        return 3
    root, folder = sys.argv[1], sys.argv[2]
    names, qs = tables(root), queries(folder)
    out = {}
    for engine, fn in (("duckdb", duckdb_engine), ("polars", polars_engine)):
        if engine not in chosen:
            out[engine] = {"error": "not run"}
            continue
        try:
            version, results = fn(root, names, qs)
            out[engine] = {"version": version, "queries": results}
        except Exception as e:  # one engine's failure is reported, the other still measured
            out[engine] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
