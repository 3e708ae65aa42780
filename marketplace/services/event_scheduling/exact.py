"""Exact method for the general case: a 0/1 integer programme solved by HiGHS (``scipy.optimize.milp``).

One variable ``x[r, s]`` per request ``r`` and slot ``s`` it may use (both people available, neither busy nor
held by a fixed meeting, a table left after the fixed meetings). Constraints:

    sum_s x[r, s] <= 1                                   each request at most once
    sum_{r of person v} x[r, s] <= 1                      nobody in two places in one slot
    sum_r x[r, s] <= tables - fixed meetings in s         tables per slot
    sum_{r of v, s} x[r, s] <= cap(v) - fixed meetings    meetings per person

maximising ``sum w'(r) x[r, s]`` with ``w'`` from ``Instance.weight_key`` (the most weight, then the most
meetings). With the relative gap set to zero the solver proves optimality, so when every request can be placed
every request is placed. The programme grows with requests x slots; past ``MAX_VARIABLES`` or when the solver
hits ``TIME_LIMIT_SECONDS`` the caller uses the heuristic instead (or the solver's best, whichever is better)
and reports ``exact=False``.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from marketplace.services.event_scheduling.model import Instance, MeetingRequest

MAX_VARIABLES = 20_000
TIME_LIMIT_SECONDS = 10.0  # the organiser waits for the page (gunicorn stops a worker after 30 s)


def solve(instance: Instance, time_limit: float | None = None) -> tuple[dict[int, int], bool] | None:
    """``({request id: slot}, proven optimal)``, or None when the solver returned no solution."""
    variables: list[tuple[MeetingRequest, int]] = [(r, s) for r in instance.free for s in instance.options[r.id]]
    if not variables:
        return {}, True
    rows: list[tuple[list[int], int]] = []     # (variable indices, upper bound); all coefficients are 1
    per_request, per_person_slot, per_slot, per_person = (defaultdict(list) for _ in range(4))
    for i, (r, s) in enumerate(variables):
        per_request[r.id].append(i)
        per_slot[s].append(i)
        for person in r.people:
            per_person_slot[(person, s)].append(i)
            per_person[person].append(i)
    rows += [(ids, 1) for ids in per_request.values() if len(ids) > 1]
    rows += [(ids, 1) for ids in per_person_slot.values() if len(ids) > 1]
    rows += [(ids, instance.free_tables(s)) for s, ids in per_slot.items() if len(ids) > instance.free_tables(s)]
    rows += [(ids, instance.remaining(v)) for v, ids in per_person.items() if len(ids) > instance.remaining(v)]
    cost = -np.array([instance.weight_key(r) for r, _ in variables], dtype=float)
    constraints = []
    if rows:
        row_index = [k for k, (ids, _) in enumerate(rows) for _ in ids]
        col_index = [i for ids, _ in rows for i in ids]
        matrix = coo_array((np.ones(len(col_index)), (row_index, col_index)), shape=(len(rows), len(variables)))
        constraints = [LinearConstraint(matrix.tocsr(), -np.inf, np.array([bound for _, bound in rows], float))]
    result = milp(cost, integrality=np.ones(len(variables)), bounds=Bounds(0, 1), constraints=constraints,
                  options={"mip_rel_gap": 0.0, "time_limit": time_limit or TIME_LIMIT_SECONDS})
    if result.x is None:
        return None
    chosen = {variables[i][0].id: variables[i][1] for i in np.flatnonzero(result.x > 0.5)}
    return chosen, result.status == 0
