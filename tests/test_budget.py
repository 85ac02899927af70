"""The compute budget (ladder.budget): who gets how many threads, and that the caller's come back."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_info

from ladder import budget
from ladder.models import MLP, SimpleCNN


@pytest.fixture
def machine(monkeypatch):
    """A machine with 4 usable cores of which `free` are idle; counts how often it was sampled."""
    seen = {"free": 4, "samples": 0}

    def idle_cores(sample_seconds=0.2):
        seen["samples"] += 1
        return seen["free"]
    monkeypatch.setattr(budget, "idle_cores", idle_cores)
    monkeypatch.delenv(budget.ENV_VAR, raising=False)
    return seen


def test_a_model_without_convolutions_and_scikit_learn_get_one_thread(machine):
    assert budget.threads_for(MLP((2,), 2, hidden=(64,))) == 1
    assert budget.threads_for(None) == 1
    assert machine["samples"] == 0  # nothing to sample for them


def test_a_cnn_gets_the_idle_cores_outside_a_run_and_the_run_s_cap_inside(machine):
    cnn = SimpleCNN()
    assert budget.threads_for(cnn) == 4
    machine["free"] = 1  # another program took three cores
    assert budget.threads_for(cnn) == 1
    with budget.budget(2):
        samples = machine["samples"]
        assert budget.threads_for(cnn) == 2
        assert machine["samples"] == samples  # the run sampled the machine once, when it started


def test_a_cnn_on_another_device_than_the_cpu_gets_one_thread_without_sampling(machine):
    on_meta = SimpleCNN().to("meta")  # stands for a GPU: the CPU only launches its kernels
    assert budget.threads_for(on_meta) == 1
    assert machine["samples"] == 0


def test_an_explicit_count_wins_over_the_policy_but_not_over_the_run_s_cap(machine, monkeypatch):
    mlp = MLP((2,), 2)
    assert budget.threads_for(mlp, n_threads=3) == 3
    monkeypatch.setenv(budget.ENV_VAR, "2")
    assert budget.threads_for(mlp) == 2
    assert budget.threads_for(mlp, n_threads=3) == 3  # the estimator's parameter before the variable
    with budget.budget(1):
        assert budget.threads_for(mlp, n_threads=3) == 1


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_ladder_threads_says_what_to_give(machine, monkeypatch, value):
    monkeypatch.setenv(budget.ENV_VAR, value)
    with pytest.raises(ValueError, match=f"LADDER_THREADS='{value}': give a whole number"):
        budget.threads_for(MLP((2,), 2))


def test_n_threads_below_one_is_refused():
    with pytest.raises(ValueError, match="n_threads must be >= 1, got 0"):
        budget.requested_threads(0)


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info()}


def test_threads_sets_torch_and_the_blas_pools_then_gives_the_caller_s_settings_back():
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with budget.threads(1):
            assert torch.get_num_threads() == 1
            assert blas_threads() <= {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)


@pytest.mark.parametrize("n_tasks, jobs, cores, work, expected", [
    (10, "auto", 2, float("inf"), (2, 1)),   # enough tasks and work: a job per free core
    (10, "auto", 1, float("inf"), (1, 1)),   # beside a busy core: one job
    (2, "auto", 2, float("inf"), (1, 2)),    # no more tasks than cores: one job, both cores
    (10, "auto", 2, 1_000, (1, 2)),          # too little work to pay for starting workers
    (10, 4, 2, float("inf"), (4, 1)),        # asked for: four jobs share two cores, one thread each
    (3, 8, 4, float("inf"), (3, 1)),         # never more jobs than tasks
])
def test_plan_shares_the_free_cores_among_the_jobs(n_tasks, jobs, cores, work, expected):
    assert budget.plan(n_tasks, jobs, cores, work) == expected
