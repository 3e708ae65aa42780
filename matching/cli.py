"""Command line: ``python -m matching rank | fit | evaluate``.

    python -m matching rank --offers OFFERS.jsonl --needs NEEDS.jsonl [--edges EDGES.jsonl] --top-k 10 --out OUT.jsonl
    python -m matching fit --offers OFFERS.jsonl [--edges EDGES.jsonl] --model DIR
    python -m matching rank --model DIR --needs NEEDS.jsonl --out OUT.jsonl [--workers N]
    python -m matching evaluate DATASET_DIR [DATASET_DIR ...] [--semantic] [--split tune|heldout]

``--semantic`` adds the semantic channel (sentence vectors; off by default here).

Bad input (malformed JSON, missing id, edge end naming no record) prints ``error: FILE:LINE: ...``
on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from .config import EngineConfig
from .engine import MatchingEngine
from .io import InputError, check_unique, read_edges, read_jsonl, write_jsonl

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m matching", description="TechBridge supply-demand matching"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    rank = commands.add_parser("rank", help="rank offers for each need")
    source = rank.add_mutually_exclusive_group(required=True)
    source.add_argument("--offers", help="offers JSON-lines file")
    source.add_argument("--model", help="directory of an engine saved by 'fit' (instead of --offers)")
    rank.add_argument("--needs", required=True, help="needs JSON-lines file")
    rank.add_argument("--edges", help="graph edges JSON-lines file")
    rank.add_argument("--top-k", type=int, default=10)
    rank.add_argument("--out", required=True, help="output JSON-lines file, one line per need")
    rank.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of each reason's 'text'")
    rank.add_argument("--no-reasons", action="store_true", help="skip reasons (faster)")
    rank.add_argument("--config", help='JSON object of EngineConfig fields, e.g. \'{"text_model": "tfidf"}\'')
    rank.add_argument("--semantic", action="store_true", help="add the semantic channel (sentence vectors)")
    rank.add_argument(
        "--workers",
        type=int,
        default=1,
        help="rank the needs in this many processes (the model is saved once and memory-mapped by each)",
    )

    fit = commands.add_parser("fit", help="fit on offers (and edges) and save the engine")
    fit.add_argument("--offers", required=True)
    fit.add_argument("--edges")
    fit.add_argument("--model", required=True, help="output directory")
    fit.add_argument("--config")
    fit.add_argument("--semantic", action="store_true", help="add the semantic channel (sentence vectors)")

    evaluate = commands.add_parser("evaluate", help="engine vs BM25 on a dataset with qrels.tsv")
    evaluate.add_argument(
        "dataset", nargs="+", help="directories with offers.jsonl, needs.jsonl, edges.jsonl, qrels.tsv"
    )
    evaluate.add_argument(
        "--semantic", action="store_true", help="add the semantic channel (sentence vectors)"
    )
    evaluate.add_argument("--vector-cache", help="directory keeping sentence vectors between runs")
    evaluate.add_argument(
        "--learn",
        action="store_true",
        help="also learn weights from judged outcomes, scored on held-out needs",
    )
    evaluate.add_argument(
        "--reliability",
        action="store_true",
        help="also check what each strength band means on held-out needs (share judged relevant, ECE)",
    )
    evaluate.add_argument(
        "--split",
        choices=("tune", "heldout"),
        help="rank and score only this half of the judged needs (a stable hash of the need id)",
    )
    evaluate.add_argument("--top-k", type=int, default=100)
    evaluate.add_argument("--no-baseline", action="store_true")
    evaluate.add_argument("--config")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _config(text: str | None, semantic: bool = False) -> EngineConfig:
    try:
        config = EngineConfig.from_json(json.loads(text)) if text else EngineConfig()
    except (json.JSONDecodeError, TypeError) as err:
        raise InputError("--config", None, f"not a JSON object of engine settings ({err})") from None
    if semantic:
        from .encoders import EncoderUnavailable, make_encoder

        config.semantic = True
        try:
            make_encoder(config.encoder)
        except (EncoderUnavailable, ValueError) as err:
            raise InputError("--semantic", None, str(err)) from None
    return config


def _records(path: str) -> list[dict]:
    records = read_jsonl(path)
    check_unique(records, path)
    for record in records:
        record.pop("_line", None)
    return records


def _run_rank(args) -> None:
    if args.top_k < 1:
        raise InputError("--top-k", None, "must be at least 1")
    if args.workers < 1:
        raise InputError("--workers", None, "must be at least 1")
    needs = _records(args.needs)
    explain = not args.no_reasons
    if args.model:
        if args.edges:
            raise InputError(args.edges, None, "--edges cannot be combined with --model (edges are fitted)")
        if args.workers > 1:
            from .shards import rank_in_processes

            write_jsonl(args.out, rank_in_processes(args.model, needs, args.workers, args.top_k, args.lang, explain))
            return
        engine = MatchingEngine.load(args.model)
    else:
        offers = _records(args.offers)
        if not offers:
            raise InputError(args.offers, None, "no offers")
        edges = (
            read_edges(args.edges, {o["id"] for o in offers}, {n["id"] for n in needs}) if args.edges else []
        )
        config = _config(args.config, args.semantic)
        config.fit_processes = args.workers
        engine = MatchingEngine(config).fit(offers, edges)
        if args.workers > 1:
            from .shards import rank_forked

            # The worker processes are forked from this one and read the fitted engine it holds.
            write_jsonl(args.out, rank_forked(engine, needs, args.workers, args.top_k, args.lang, explain))
            return
    write_jsonl(args.out, engine.rank(needs, top_k=args.top_k, lang=args.lang, explain=explain))


def _run_fit(args) -> None:
    offers = _records(args.offers)
    if not offers:
        raise InputError(args.offers, None, "no offers")
    edges = read_edges(args.edges, {o["id"] for o in offers}, None) if args.edges else []
    MatchingEngine(_config(args.config, args.semantic)).fit(offers, edges).save(args.model)


def _run_evaluate(args) -> None:
    from .evaluate import evaluate_dataset, format_report

    config = _config(args.config, args.semantic)
    reports = []
    for dataset in args.dataset:  # one settings object for every collection
        report = evaluate_dataset(
            dataset,
            config,
            top_k=args.top_k,
            baseline=not args.no_baseline,
            vector_cache=args.vector_cache,
            learn=args.learn,
            split=args.split,
            reliability=args.reliability,
        )
        reports.append(report)
        if not args.json:
            print(format_report(report), flush=True)
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        {"rank": _run_rank, "fit": _run_fit, "evaluate": _run_evaluate}[args.command](args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
