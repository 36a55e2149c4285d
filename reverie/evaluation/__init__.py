"""Measuring the paper's results (`manage.py reverie_eval`); pure Python, no Django.

    judging        what counts as knowing a fact: the judge's structured verdict on an
                   answer, the memory check, and the hallucination rule
    network        relationship density and the graph drawing (SVG)
    attendance     who was at the party's place during its window, invited or not
    believability  the five categories of interview questions and the ablations
    trueskill      two-player TrueSkill, to rank the ablations from pairwise verdicts
    stats          mean and a 95% t-interval over repeated runs
    estimate       calls and tokens an evaluation will use, before it starts
    schemas        the judge's pydantic schemas

The Django shell (load a simulation's state at a step, run the interviews, store the
results) is reverie/eval_services.py; the command is reverie/management/commands/
reverie_eval.py and the page environment/smallville/eval_views.py. docs/evaluation.md
says what each measure does and how it compares with the paper.
"""

# The paper's figures (Park et al. 2023, section 7), printed beside ours.
# % aware at the start and after two game days:
PAPER_DIFFUSION: dict[str, tuple[float, float]] = {"party": (4.0, 52.0), "mayor": (4.0, 32.0)}
PAPER_DENSITY: tuple[float, float] = (0.167, 0.74)
PAPER_ATTENDANCE: dict[str, int] = {"invited": 12, "attended": 5}
PAPER_HALLUCINATION_PCT = 1.3  # of answers claiming knowledge, none backed by a memory
