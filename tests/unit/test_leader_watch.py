"""The leader watch's judgement, on rounds written as its pod writes them: a round is led only by
a server that answers as leader, an unanswered server is unreachable (not "no leader"), and
elections are the leader's term changes."""

from __future__ import annotations

from typing import cast

import pytest

from harness.leader_watch import Deployment, LeaderWatch, parse

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
VOTERS = "voters=s-0,s-1,s-2 failed=0"


def leads(ip: str, term: int) -> str:
    return f"{ip}=Leader,{term},{ip}:8300"


def follows(ip: str, term: int, leader: str) -> str:
    return f"{ip}=Follower,{term},{leader + ':8300' if leader else ''}"


def watch(*rounds: str, step_ms: int = 100) -> LeaderWatch:
    w = LeaderWatch(cast(Deployment, None))
    w.samples = [parse(f"{1000 + i * step_ms} {r} {VOTERS}") for i, r in enumerate(rounds)]
    return w


STEADY = f"{leads(A, 2)} {follows(B, 2, A)} {follows(C, 2, A)}"


def test_followers_naming_a_leader_that_no_longer_answers_is_leaderless() -> None:
    killed = f"{A}=!7 {follows(B, 2, A)} {follows(C, 2, A)}"
    elected = f"{A}=!7 {leads(B, 3)} {follows(C, 3, B)}"
    w = watch(STEADY, killed, killed, killed, elected)
    assert w.leaderless_windows() == [0.3]
    assert w.elections() == 1 and w.leaders() == [f"{A}:8300", f"{B}:8300"]
    assert w.unreachable_rounds() == 4


def test_a_leader_too_slow_to_answer_makes_a_round_that_cannot_tell() -> None:
    slow = f"{A}=!28 {follows(B, 2, A)} {follows(C, 2, A)}"
    w = watch(STEADY, slow, STEADY)
    assert not w.samples[1].known and w.judged() == [w.samples[0], w.samples[2]]
    assert w.leaderless_windows() == [] and w.resolution_s() == 0.2
    assert w.unreachable_rounds() == 1


def test_an_unreachable_follower_is_not_a_missing_leader() -> None:
    w = watch(STEADY, f"{leads(A, 2)} {B}=!28 {follows(C, 2, A)}", STEADY)
    assert w.leaderless_windows() == [] and w.elections() == 0
    assert w.samples[1].unreachable == [B] and w.unreachable_rounds() == 1


@pytest.mark.parametrize(
    ("rounds", "elections"),
    [
        ([STEADY, STEADY], 0),
        # The same server leads again after losing its lease: a new term, so an election.
        ([STEADY, f"{A}=Candidate,3, {follows(B, 2, '')}", f"{leads(A, 4)} {follows(B, 4, A)}"], 1),
        # A hand-over: a new leader in a new term with no leaderless round between.
        ([STEADY, f"{follows(A, 3, B)} {leads(B, 3)}"], 1),
    ],
    ids=["steady", "re-elected", "handed-over"],
)
def test_elections_are_the_leaders_term_changes(rounds: list[str], elections: int) -> None:
    assert watch(*rounds).elections() == elections


def test_two_servers_that_think_they_lead_the_newer_term_wins() -> None:
    w = watch(f"{leads(A, 2)} {leads(B, 3)} {follows(C, 3, B)}")
    assert w.samples[0].leader == f"{B}:8300" and w.samples[0].term == 3


def test_rounds_before_the_first_leader_are_not_judged() -> None:
    w = watch(f"{follows(A, 1, '')} {follows(B, 1, '')}", STEADY, STEADY)
    assert w.leaderless_windows() == [] and len(w.judged()) == 2


def test_a_bound_holds_for_each_window_at_its_longest() -> None:
    gap = f"{follows(A, 2, '')} {follows(B, 2, '')}"
    # Seen for 0.4 s (its first round to the next led one), it may have lasted 0.6 s: from the
    # led round before it.
    w = watch(STEADY, gap, gap, f"{leads(B, 3)} {follows(A, 3, B)}", step_ms=200)
    assert w.leaderless_windows() == [0.4] and w.worst_leaderless_windows() == [0.6]
    w.assert_leaderless_below(1)
    with pytest.raises(AssertionError, match="at their longest"):
        w.assert_leaderless_below(0.5)


def test_a_bound_needs_rounds_closer_than_it() -> None:
    with pytest.raises(AssertionError, match="too coarsely"):
        watch(STEADY, STEADY, step_ms=1100).assert_leaderless_below(1)
    watch(STEADY, STEADY, step_ms=900).assert_leaderless_below(1)
