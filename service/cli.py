"""The `triage` command: serve, analyze (CONTRACT.md), ingest, eval, db and corpus tools."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from service.config import Settings, get_settings
from service.contract import AnalysisError

if TYPE_CHECKING:
    from service.auth import Role
    from service.nlp.pipeline import AnalysisInput

app = typer.Typer(help="WRO Triage: forced-labor evidence triage for Section 307.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
corpus_app = typer.Typer(help="The annotated corpus under corpora/.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts for the investigators' web pages.", no_args_is_help=True)
apikey_app = typer.Typer(help="Keys for API v1 (only a hash is stored).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(corpus_app, name="corpus")
err = Console(stderr=True)

PipelineOption = Annotated[
    str | None,
    typer.Option("--pipeline", help="'rules' (baseline) or 'models' (trained); default from settings"),
]


def _settings(pipeline: str | None = None) -> Settings:
    settings = get_settings()
    if pipeline:
        settings = settings.model_copy(update={"pipeline": pipeline})
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Serve the API (and the in-process worker) with uvicorn."""
    import uvicorn

    from service.api.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="drain the queue once and exit (polling worker only)")] = False,
) -> None:
    """Run a worker: a Celery worker when TRIAGE_WORKER=celery, else a process polling the database."""
    import logging

    from service.db.engine import make_engine, upgrade_database
    from service.jobs import JobContext

    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    context = JobContext.load(engine, settings)
    err.print(f"worker {context.worker} ready ({context.pipeline.versions.pipeline}, {settings.worker})")
    try:
        if settings.worker == "celery" and not once:
            from service.celery_app import run_worker

            run_worker(context, settings)
        else:
            from service.worker import poll_forever

            poll_forever(context, once, lambda n: err.print(f"processed {n} documents"))
    except KeyboardInterrupt:
        err.print("worker stopped")
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version (idempotent)."""
    from service.db.engine import upgrade_database

    settings = get_settings()
    upgrade_database(settings.database_url)
    err.print(f"database ready: {settings.database_url.split('@')[-1]}")


def _role(value: str) -> Role:
    """The role named on the command line, or a usage error listing the roles."""
    from service.auth import Role

    try:
        return Role(value)
    except ValueError as exc:
        err.print(f"unknown role {value!r}; use one of {', '.join(r.value for r in Role)}")
        raise typer.Exit(2) from exc


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="submitter, reviewer, lead or admin")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")
    ] = False,
) -> None:
    """Create a web user; the password is asked for (twice) unless --password-stdin is given."""
    from service.auth import UserExistsError, create_user
    from service.db.engine import make_engine, upgrade_database

    chosen = _role(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        create_user(engine, name, chosen, password)
    except UserExistsError as exc:
        err.print(f"a user named {name!r} already exists")
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    err.print(f"user {name} added as {chosen.value}")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="who or what uses the key")],
    role: Annotated[str, typer.Option(help="submitter, reviewer, lead or admin")] = "submitter",
) -> None:
    """Create a key and print it once on standard output; only its sha256 is kept."""
    from service.auth import create_api_key
    from service.db.engine import make_engine, upgrade_database

    chosen = _role(role)
    settings = get_settings()
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        issued = create_api_key(engine, name, chosen, "cli")
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    err.print(f"key {issued.key.id} ({chosen.value}) for {issued.key.name}; it is shown only now:")
    typer.echo(issued.secret)


@apikey_app.command("list")
def apikey_list() -> None:
    """Keys with their roles and whether they are revoked (never the keys themselves)."""
    from service.auth import list_api_keys
    from service.db.engine import make_engine

    engine = make_engine(get_settings().database_url)
    table = Table(title="API keys")
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column)
    for row in list_api_keys(engine):
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else ""
        table.add_row(row.id, row.name, row.role, row.created_at.isoformat(timespec="seconds"), revoked)
    engine.dispose()
    Console().print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (from `apikey list`)")]) -> None:
    """Revoke a key; requests with it are refused from now on."""
    from service.auth import revoke_api_key
    from service.db.engine import make_engine
    from service.errors import NotFoundError

    engine = make_engine(get_settings().database_url)
    try:
        revoke_api_key(engine, key_id, "cli")
    except NotFoundError as exc:
        err.print(f"no key {key_id}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    err.print(f"key {key_id} revoked")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 and name the first row that does not verify."""
    from service.audit import verify_audit_chain
    from service.db.engine import make_engine

    engine = make_engine(get_settings().database_url)
    try:
        broken = verify_audit_chain(engine)
    finally:
        engine.dispose()
    if broken is not None:
        err.print(f"audit chain broken at event {broken.event_id}: {broken.reason}")
        raise typer.Exit(1)
    err.print("audit chain intact")


@app.command("delete")
def delete_command(
    document_id: Annotated[str, typer.Argument(help="the document to delete")],
    reason: Annotated[str, typer.Option(help="reason code, e.g. submitter_request or named_person_request")],
) -> None:
    """Delete a document and everything derived from it, on request; the audit log keeps only the fact."""
    from service.db.engine import make_engine
    from service.deletion import delete_document
    from service.errors import NotFoundError

    engine = make_engine(get_settings().database_url)
    try:
        delete_document(engine, document_id, "cli", reason)
    except NotFoundError as exc:
        err.print(f"no document {document_id}")
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    err.print(f"document {document_id} deleted")


# (id, what to analyse, error): an input that cannot be analysed carries an error instead of stopping the run.
Item = tuple[str | None, "AnalysisInput | None", str | None]


def _jsonl_items(handle: TextIO) -> Iterator[Item]:
    """One item per input line; malformed lines carry an error."""
    from service.nlp.pipeline import AnalysisInput

    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield None, None, f"line {number}: invalid JSON ({exc.msg})"
            continue
        if not isinstance(row, dict):
            yield None, None, f"line {number}: expected a JSON object"
            continue
        doc_id = str(row["id"]) if row.get("id") is not None else None
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            yield doc_id, None, f"line {number}: missing or empty 'text'"
            continue
        doc_id = doc_id if doc_id is not None else f"line-{number}"
        yield doc_id, AnalysisInput(doc_id, text), None


def _file_items(paths: list[Path], settings: Settings) -> Iterator[Item]:
    from service.documents import limits_from
    from service.ingest import IngestError, extract_text
    from service.nlp.pipeline import AnalysisInput

    for path in paths:
        try:
            extracted = extract_text(path.read_bytes(), path.name, limits_from(settings))
        except IngestError as exc:
            yield str(path), None, f"{exc.code.value}: {exc.message}"
            continue
        except OSError as exc:
            yield str(path), None, f"cannot read: {exc.strerror}"
            continue
        yield (
            str(path),
            AnalysisInput(str(path), extracted.text, None, extracted.shipments, extracted.ocr_pages),
            None,
        )


@app.command()
def analyze(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help=".txt .pdf .html .docx .eml, images (.png .jpg .tif .webp) and tables (.csv .xlsx)"
        ),
    ] = None,
    jsonl: Annotated[
        str | None, typer.Option("--jsonl", help="JSONL input with id and text; '-' for stdin")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write JSONL here instead of stdout")] = None,
    pipeline_name: PipelineOption = None,
    chunk: Annotated[int, typer.Option(help="documents analysed together")] = 32,
) -> None:
    """Analyse documents; one analysis object per line, in input order (CONTRACT.md)."""
    from service.nlp.pipeline import Pipeline

    if bool(files) == bool(jsonl):
        err.print("give either FILE... or --jsonl INPUT")
        raise typer.Exit(2)
    settings = _settings(pipeline_name)
    try:
        pipeline = Pipeline.load(settings)
    except (OSError, ValueError) as exc:
        err.print(f"cannot load the pipeline: {exc}")
        raise typer.Exit(1) from exc
    if jsonl:
        try:
            handle: TextIO = sys.stdin if jsonl == "-" else open(jsonl, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            err.print(f"cannot open {jsonl}: {exc.strerror}")
            raise typer.Exit(1) from exc
        items = _jsonl_items(handle)
    else:
        items = _file_items(list(files or []), settings)
    sink: TextIO = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        buffer: list[Item] = []
        for item in items:
            buffer.append(item)
            if len(buffer) >= chunk:
                _flush(pipeline, buffer, sink)
                buffer = []
        _flush(pipeline, buffer, sink)
    finally:
        if out:
            sink.close()


def _flush(pipeline: Any, buffer: list[Item], sink: TextIO) -> None:
    good = [item for _doc_id, item, error in buffer if error is None and item is not None]
    try:
        analyses = iter(list(pipeline.analyze_inputs(good)))
        failure = None
    except Exception as exc:  # one bad batch must not end the run: its lines report the error
        analyses, failure = iter([]), f"analysis failed: {exc.__class__.__name__}: {exc}"
    for doc_id, item, error in buffer:
        if error is None and item is not None and failure is None:
            sink.write(next(analyses).model_dump_json() + "\n")
        else:
            sink.write(AnalysisError(id=doc_id, error=error or failure or "unknown").model_dump_json() + "\n")
        sink.flush()


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="folders, files, or zip/JSONL batch files")],
    source_type: Annotated[
        str, typer.Option(help="ngo_report, news, e_allegation, government, company, other")
    ] = "other",
    process: Annotated[bool, typer.Option(help="analyse right away in this process")] = True,
) -> None:
    """Store documents as batches (a folder, or a .zip/.jsonl file) with a progress bar, then analyse them.

    Run it again after a crash: an unfinished folder batch resumes where it stopped, and documents already
    stored are not stored again.
    """
    from service.batches import (
        BatchError,
        add_folder_member,
        batch_progress,
        create_batch,
        finish_folder_batch,
        folder_members_done,
        start_folder_batch,
    )
    from service.db.engine import make_engine, upgrade_database
    from service.db.models import SourceType

    settings = get_settings()
    try:
        kind = SourceType(source_type)
    except ValueError as exc:
        err.print(f"unknown source type {source_type!r}")
        raise typer.Exit(2) from exc
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    batch_ids: list[str] = []
    loose = [p for p in paths if p.is_file() and p.suffix.lower() not in {".zip", ".jsonl", ".ndjson"}]
    folders = [p for p in paths if p.is_dir()]
    archives = [p for p in paths if p.is_file() and p not in loose]
    for path in archives:
        try:
            batch = create_batch(engine, path.read_bytes(), path.name, kind, settings, "cli")
        except BatchError as exc:
            err.print(f"{path}: {exc.code}: {exc.message}")
            raise typer.Exit(1) from exc
        batch_ids.append(batch.id)
    groups = [
        (folder.resolve(), sorted(p.resolve() for p in folder.rglob("*") if p.is_file()))
        for folder in folders
    ]
    if loose:
        files = sorted(p.resolve() for p in loose)
        groups.append((Path(os.path.commonpath([str(p.parent) for p in files])), files))
    for root, files in groups:
        batch = start_folder_batch(engine, root, kind, "cli")
        done = folder_members_done(engine, batch.id)
        with _progress() as progress:
            task = progress.add_task(f"storing {root.name}", total=len(files))
            for path in files:
                if str(path.relative_to(root))[:512] not in done:
                    add_folder_member(engine, batch, path, root, settings.max_upload_bytes)
                progress.advance(task)
        finish_folder_batch(engine, batch.id, len(files))
        batch_ids.append(batch.id)
    for batch_id in batch_ids:
        state = batch_progress(engine, batch_id)
        err.print(f"batch {batch_id}: {state.stored} stored, {state.rejected} rejected of {state.total}")
    if process:
        from service.jobs import JobContext
        from service.worker import drain_queue

        context = JobContext.load(engine, settings)
        with _progress() as progress:
            totals = [batch_progress(engine, b) for b in batch_ids]
            pending = sum(t.queued + t.processing for t in totals)
            task = progress.add_task("analysing", total=pending)
            drain_queue(context, on_processed=lambda _id: progress.advance(task))
        for batch_id in batch_ids:
            state = batch_progress(engine, batch_id)
            err.print(f"batch {batch_id}: {state.done} done, {state.failed} failed of {state.total}")
    engine.dispose()


@app.command()
def batch(batch_id: Annotated[str, typer.Argument(help="batch id")]) -> None:
    """Progress of a batch: stored, queued, processing, done, failed."""
    from service.batches import batch_progress
    from service.db.engine import make_engine
    from service.errors import NotFoundError

    engine = make_engine(get_settings().database_url)
    try:
        typer.echo(batch_progress(engine, batch_id).model_dump_json(indent=1))
    except NotFoundError as exc:
        err.print(f"no batch {batch_id}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@app.command()
def queue(
    order: Annotated[str, typer.Option(help="'priority' or 'uncertain' (least sure first)")] = "priority",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """The review queue, most important (or least certain) first."""
    from service.db.engine import make_engine
    from service.review import QueueFilter
    from service.review import queue as review_queue

    if order not in {"priority", "uncertain"}:
        err.print("order must be 'priority' or 'uncertain'")
        raise typer.Exit(2)
    engine = make_engine(get_settings().database_url)
    table = Table(title=f"review queue ({order})")
    for column in ("document", "tier", "wro score", "priority", "uncertainty", "file"):
        table.add_column(column)
    for row in review_queue(engine, QueueFilter(), order, limit, 0):
        table.add_row(
            row.id,
            row.tier or "",
            f"{row.wro_score or 0:.2f}",
            f"{row.priority or 0:.2f}",
            f"{row.uncertainty or 0:.2f}",
            row.filename or "",
        )
    Console().print(table)
    engine.dispose()


@app.command("export-decisions")
def export_decisions_command(
    out: Annotated[Path | None, typer.Option("--out", help="JSONL file; default standard output")] = None,
    redact: Annotated[
        bool, typer.Option("--redact/--no-redact", help="withhold names of workers and witnesses")
    ] = True,
) -> None:
    """Reviewers' decisions as corpus-format JSONL (for `training/retrain.py --decisions`)."""
    from service.db.engine import make_engine
    from service.learning import export_decisions

    settings = get_settings()
    people = None
    if redact:
        from service.api.app import people_finder
        from service.nlp.pipeline import Pipeline

        people = people_finder(Pipeline.load(settings), settings)
    engine = make_engine(settings.database_url)
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        for record in export_decisions(engine, people):
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out:
            sink.close()
        engine.dispose()
    err.print(f"exported {count} reviewed documents")


def _evaluate_one(gold: Path, pipeline: Any, plot: Path | None) -> dict[str, Any]:
    from service.config import REPO_ROOT
    from service.corpus import load_split
    from service.evaluation import expected_calibration_error, reliability_plot, score_predictions

    rows = load_split(gold)
    analyses = list(pipeline.analyze_many([(str(r["id"]), r["text"], r.get("language")) for r in rows]))
    preds = {a.id: a.model_dump(mode="json") for a in analyses}
    scores: dict[str, Any] = score_predictions(rows, preds)
    bar_scores = [float(preds[str(r["id"])]["assessment"]["score"]) for r in rows]
    bar_labels = [r["gold"]["tier"] != "insufficient" for r in rows]
    scores["wro_bar_ece"] = round(expected_calibration_error(bar_scores, bar_labels), 3)
    plot_path = plot or REPO_ROOT / "var" / "eval" / f"{gold.stem}-{pipeline.name}-reliability.png"
    reliability_plot(bar_scores, bar_labels, plot_path, f"{gold.name} ({pipeline.name})")
    scores["reliability_plot"] = str(plot_path)
    scores["_predictions"] = list(preds.values())
    return scores


@app.command("eval")
def evaluate(
    gold: Annotated[list[Path], typer.Argument(help="gold JSONL files: id, text, gold{...}")],
    pipeline_name: PipelineOption = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="run the rules and the models pipelines side by side")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    predictions: Annotated[
        Path | None, typer.Option(help="also write the predictions here (one gold file)")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="reliability plot PNG (default var/eval/<gold>-<pipeline>-reliability.png)"),
    ] = None,
) -> None:
    """Run pipelines on gold files; print the CONTRACT.md metrics (entity P/R/F per type, indicators, nexus,
    tier) with calibration error, and save a reliability plot of the WRO-bar score per run."""
    from service.evaluation import HEADLINE
    from service.nlp.pipeline import Pipeline

    names = ["rules", "models"] if compare else [pipeline_name or get_settings().pipeline]
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        pipeline = Pipeline.load(_settings(name))
        for path in gold:
            results[f"{path.name} · {name}"] = _evaluate_one(
                path, pipeline, plot if len(gold) == 1 and not compare else None
            )
    if predictions and len(results) == 1:
        rows = next(iter(results.values()))["_predictions"]
        predictions.write_text("".join(json.dumps(p) + "\n" for p in rows), encoding="utf-8")
    for scores in results.values():
        scores.pop("_predictions")
    if as_json:
        if len(results) == 1:
            typer.echo(
                json.dumps({"pipeline": names[0], "gold": str(gold[0]), **next(iter(results.values()))})
            )
        else:
            typer.echo(json.dumps(results))
        return
    entity_keys = [f"{t}_{m}" for t in ("producers", "commodities", "locations") for m in ("p", "r", "f1")]
    keys = [*entity_keys, *[k for k in HEADLINE if k not in entity_keys], "wro_bar_ece"]
    table = Table(title="WRO Triage evaluation")
    table.add_column("metric")
    for column in results:
        table.add_column(column, justify="right")
    for key in keys:
        table.add_row(key, *(str(scores[key]) for scores in results.values()))
    Console().print(table)
    for column, scores in results.items():
        Console().print(f"{column}: reliability plot {scores['reliability_plot']}")
        Console().print(
            {"per_label_f1": scores["indicators_per_label_f1"], "tier_confusion": scores["tier_confusion"]}
        )


@corpus_app.command("stats")
def corpus_stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    corpus_dir: Annotated[Path | None, typer.Option(help="folder with train/dev/test.jsonl")] = None,
) -> None:
    """Statistics of the annotated corpus (documents, sentences, indicators, tiers, coverage, leakage)."""
    from service.corpus import corpus_statistics, default_corpus_dir

    stats = corpus_statistics(corpus_dir or default_corpus_dir())
    if as_json:
        typer.echo(json.dumps(stats, indent=1))
        return
    Console().print(stats)


def main() -> None:  # pragma: no cover - console entry point alias
    app()
