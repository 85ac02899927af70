"""`ladder run` and `ladder report`: run experiments, print and write their results."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import LadderError
from ..progress import ProgressListener, bars
from . import app, console, errors, escape, user_errors


RUN_EXAMPLES = """\b
Examples:
  ladder run                                  # the whole progression
  ladder run circles sine --seeds 3 --out runs/demo
  ladder run my_ladder.toml --strict          # your own experiment file
  ladder run play-circles.toml --seed 7       # a set-up exported by ladder play, with its seed
  ladder run noisy-circles --seeds 20 --backend ray   # on Ray: a local instance, or --address
"""


@app.command(epilog=RUN_EXAMPLES)
@user_errors
def run(
    experiments: Annotated[Optional[list[str]], typer.Argument(
        help="Built-in experiment names or .toml files; default: the whole progression.",
        show_default=False)] = None,
    n_seeds: Annotated[int, typer.Option("--seeds", help="How many seeds (0, 1, …) to run each rung with.")] = 1,
    seed: Annotated[Optional[int], typer.Option(
        help="Run each rung with this one seed instead (a set-up exported by `ladder play` names "
             "its page's seed).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Folder for results.json, the figures, the trained PyTorch weights and report.html.")] = None,
    figures: Annotated[bool, typer.Option(help="With --out, draw the figures and write the HTML report.")] = True,
    device: Annotated[str, typer.Option(help="auto (cuda, then mps, then cpu), cpu, cuda or mps.")] = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when a claim or a task fails.")] = False,
    jobs: Annotated[str, typer.Option(
        help="Rung × seed tasks run in parallel: a number, or auto (one per free core when there "
             "are more tasks than cores, and for small models only when there is enough training "
             "to share). Jobs are worker processes, or threads of this process for a run on "
             "images, which then share the dataset.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(
        help="CPU threads per task (overrides ladder's choice and $LADDER_THREADS): by default one "
             "for small models and scikit-learn, and for CNNs the free cores left to each job.",
        show_default=False)] = None,
    backend: Annotated[str, typer.Option(
        help="Where rung × seed tasks run: serial (this process), local (worker processes) or ray.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="With --backend ray, the cluster to join: auto or ray://HOST:PORT; by default a local "
             "Ray is started for the run.", show_default=False)] = None,
):
    """Run experiments, print a table per experiment and check each claim (✓ holds, ✗ fails)."""
    # Over 40 lines only by its option declarations above; the body is the run, step by step.
    from .. import budget, executors
    from .. import experiments as exp
    from ..plan import plan_run, workers_likely

    _check_run_options(n_seeds, jobs, threads, device)
    if seed is not None:
        if n_seeds != 1:
            raise LadderError(f"--seed {seed} --seeds {n_seeds}: give one of them, not both")
        if seed < 0:
            raise LadderError(f"--seed {seed}: a seed is a whole number >= 0")
    executors.check_backend(backend, address)
    targets = experiments or exp.PROGRESSION
    cores = budget.idle_cores()  # sampled before the run starts any work of its own
    second_process = cores >= 2 and jobs != "1" and backend != "serial"  # may draw figures
    early = workers_likely(targets, n_seeds, jobs, backend, cores)
    if early:
        executors.start_workers_early()
    from ..outputs import prepare_out_dir  # (the runner imports PyTorch: after the early start)
    from ..results import claims_line, document, tally
    from ..runner import load_datasets, run_experiments

    specs = [exp.resolve(name) for name in targets]  # all checked before any run
    out_dir = prepare_out_dir(out) if out else None
    seeds = [seed] if seed is not None else list(range(n_seeds))
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    datasets = load_datasets(specs)  # a bad dataset parameter fails before any training
    # The run's plan, made once: where its tasks run, how many at a time, their threads, the device.
    plan = plan_run(specs, datasets, n_seeds, jobs, threads, backend, address, device, cores)
    if early and plan.executor != "workers":
        executors.stop_worker_server()  # the run's tasks stay in this process after all
    with bars(console.rich) as progress:
        runs = run_experiments(specs, seeds, plan, ProgressListener(progress), datasets)
    records = [r.record for r in runs]
    _print_records(records)
    results = document(records, seeds=seeds, device=plan.device, date=date,
                       timings={"experiments": time.perf_counter() - started})
    if out_dir is not None:  # drawn on two cores where the run may use them
        _write(out_dir, runs, results, started, figures, second_process)
    broken = _failures(records)
    console.print(f"{claims_line(records)} · {time.perf_counter() - started:.1f} s on {plan.device}")
    _, failed, _ = tally([c for r in records for c in r["claims"]])
    if strict and (failed or broken):
        raise typer.Exit(1)


def _write(out_dir: Path, runs, results: dict, started: float, figures: bool, helper: bool) -> None:
    """The run's outputs into `out_dir`, a progress bar following the figures; with `helper`, a
    second process draws some of them (`drawing.draw_figures`)."""
    from ..figures import count_figures
    from ..outputs import write_run

    with bars(console.rich) as progress:
        task = progress.add_task("figures", total=count_figures(runs) if figures else 0)
        write_run(out_dir, runs, results, started, figures,
                  lambda title: progress.update(task, advance=1, description=title), helper)
    console.print(f"results: {out_dir / 'results.json'}")
    if figures:
        console.print(f"report:  {out_dir / 'report.html'}")


def _failures(records: list[dict]) -> list[str]:
    """Every rung × seed task that failed, each printed on stderr as one line."""
    broken = [f"{r['name']}/{rung['name']} seed {f['seed']}: {f['reason']}"
              for r in records for rung in r["rungs"] for f in rung.get("failures", [])]
    for line in broken:
        errors.print(f"[bold red]failed:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return broken


def _check_run_options(n_seeds: int, jobs: str, threads: int | None, device: str) -> None:
    """The options of `ladder run` that need nothing loaded, checked first."""
    from .. import budget

    if n_seeds < 1:
        raise LadderError(f"--seeds {n_seeds}: run each rung with at least 1 seed")
    if jobs != "auto" and not (jobs.isdigit() and int(jobs) >= 1):
        raise LadderError(f"--jobs {jobs!r}: give a number of parallel jobs >= 1, or auto")
    if threads is not None and threads < 1:
        raise LadderError(f"--threads {threads}: give a number of threads >= 1")
    if device not in ("auto", "cpu", "cuda", "mps"):
        raise LadderError(f"--device {device!r}: choose one of auto, cpu, cuda, mps")
    try:  # a bad $LADDER_THREADS, said before anything runs
        budget.requested_threads()
    except ValueError as exc:
        raise LadderError(str(exc)) from None


def _print_records(records: list[dict]) -> None:
    from ..tables import claims_summary, results_table

    
    for record in records:
        console.print(results_table(record))
        console.print(claims_summary(record))
        console.print()


@app.command()
@user_errors
def report(out: Annotated[Path, typer.Argument(help="A folder written by `ladder run --out`.")]):
    """Rebuild DIR/report.html from DIR/results.json and DIR/figures (no model is loaded)."""
    from ..report import write_report

    console.print(f"report: {write_report(out)}")
