"""Adaptive graph weight: the graph parts weigh what the collection's graph is worth, measured by
how far graph neighbours of offers agree with their text neighbours."""

import numpy as np
import pytest

from matching import MatchingEngine
from matching.feedback import PARTS
from matching.graph_weight import REFERENCE, graph_scale

SUBJECTS = [
    "ventilator",
    "antigen",
    "robot",
    "loan",
    "laser",
    "vaccine",
    "battery",
    "sensor",
    "drone",
    "enzyme",
]
# Three offers per subject; only offers on the same subject share a word.
OFFERS = [{"id": f"{s}{i}", "title": f"{s} model{s}{i}"} for s in SUBJECTS for i in range(3)]


def _edges(pairs):
    return [{"source": f"offer:{a}", "target": f"offer:{b}", "relation": "cites"} for a, b in pairs]


# Links between offers on the same subject (what a citation graph mostly holds) ...
ON_TOPIC = _edges([(f"{s}0", f"{s}1") for s in SUBJECTS] + [(f"{s}1", f"{s}2") for s in SUBJECTS])
# ... and as many links between offers on different subjects.
OFF_TOPIC = _edges(
    [
        (f"{s}{i}", f"{SUBJECTS[(k + 1 + i) % len(SUBJECTS)]}{(i + 1) % 3}")
        for k, s in enumerate(SUBJECTS)
        for i in (0, 1)
    ]
)


def test_a_graph_that_agrees_with_the_text_weighs_more_than_one_that_does_not():
    agreeing = MatchingEngine().fit(OFFERS, ON_TOPIC)
    unrelated = MatchingEngine().fit(OFFERS, OFF_TOPIC)
    assert agreeing.graph_scale() > 1.0
    assert unrelated.graph_scale() < 0.5
    graph = PARTS.index("graph")
    assert unrelated.fusion_weights()[graph] < agreeing.fusion_weights()[graph]
    # The measured scale moves the ranking: a need matching vent0 gets less from its off-topic link.


def test_without_links_between_offers_the_configured_weight_is_kept():
    edges = [
        {"source": "need:n", "target": "org:协和医院", "relation": "member"},
        {"source": "offer:robot0", "target": "org:协和医院", "relation": "customer"},
    ]
    engine = MatchingEngine().fit(OFFERS, edges)
    assert engine.graph_scale() == pytest.approx(1.0)
    assert engine.fusion_weights().tolist() == [engine.weights[p] for p in PARTS]


def test_the_switch_and_learnt_weights_leave_the_configured_weights():
    engine = MatchingEngine(adaptive_graph=False).fit(OFFERS, OFF_TOPIC)
    assert engine.fusion_weights().tolist() == [engine.weights[p] for p in PARTS]
    engine = MatchingEngine().fit(OFFERS, OFF_TOPIC)
    engine.feedback_trained = True
    assert engine.fusion_weights().tolist() == [engine.weights[p] for p in PARTS]


def test_scale_is_one_at_the_reference_and_saturates():
    assert graph_scale(REFERENCE, 1.0) == pytest.approx(1.0)
    assert graph_scale(0.0, 1.0) == 0.0
    assert graph_scale(1.0, 1.0) <= 2.0
    assert graph_scale(0.0, 0.0) == 1.0  # nothing measured: keep the weight
    scales = [graph_scale(a, 1.0) for a in np.linspace(0, 1, 11)]
    assert scales == sorted(scales)


def test_same_scale_after_save_load_and_after_adding_offers(tmp_path):
    engine = MatchingEngine().fit(OFFERS, OFF_TOPIC)
    engine.save(tmp_path / "model")
    assert MatchingEngine.load(tmp_path / "model").graph_scale() == engine.graph_scale()
    first = {o["id"] for o in OFFERS[:15]}
    kept = [e for e in OFF_TOPIC if e["source"][6:] in first and e["target"][6:] in first]
    grown = MatchingEngine().fit(OFFERS[:15], kept)
    grown.graph_scale()  # measured on the smaller graph, then measured again after growing
    grown.add_offers(OFFERS[15:], [e for e in OFF_TOPIC if e not in kept])
    assert grown.graph_scale() == pytest.approx(engine.graph_scale())
