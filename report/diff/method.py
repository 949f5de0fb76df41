"""The sentences that say how the diff decided: the rules, what each was held against, and
which workers it left out. Shared by the terminal, Markdown and HTML views."""

from __future__ import annotations

from collections.abc import Sequence

from report.diff.compare import Drift, Row
from report.diff.processes import SLOW_MOMENT, LeftOut
from report.diff.stats import REPEATS
from report.words.formatting import ratio
from report.words.i18n import _


def how_to_read() -> str:
    return _(
        "Verdict: SLOWER or faster only when a test and a ratio agree. Every timing is tested "
        "on the values of one process a side: the Mann–Whitney U test against the larger of "
        "the minimum ratio and the machines' widest drift. A timing measured in several "
        "fresh processes a side (the processes column) is also tested from its processes' "
        "medians: a t test of their ratio against the larger of the minimum ratio and the "
        "shift of the machine's own level between two runs of it. A handful of processes "
        "shows their spread only roughly, so the test estimates it together with the diff's "
        "other such timings (a moderated t test). Such a timing is called when either test "
        "calls it. Holm's correction covers every test. ≈: within noise; ≈ drift: a "
        "difference the drift could explain; ?: the data cannot decide (the reason is given)."
    )


def rules_sentence(rows: list[Row], drift: Drift, left_out: Sequence[LeftOut] = ()) -> str | None:
    """How many timings each rule decided, what the processes rule was held against, and
    which workers it left out."""
    several = [r for r in rows if min(r.processes) > 1]
    if not several:
        return None
    guard = max(drift.guard_for(r.metric) for r in several)
    sentence = _(
        "{count} of {total} timings were measured in several processes a side. Each is "
        "tested from its processes' medians, held against how much they move from one "
        "process to another and against the shift of the machine's level between the runs "
        "({guard}), and from the run's own process, against the whole drift; it is called "
        "when either test calls it, with Holm's correction over both ({own} called by the "
        "second alone). The other {rest} from one process a side, against the whole drift."
    ).format(
        count=len(several),
        total=len(rows),
        guard=ratio(guard),
        own=sum(r.comparison.rule == REPEATS for r in several),
        rest=len(rows) - len(several),
    )
    if left_out:
        sentence = _("{first} {second}").format(
            first=sentence,
            second=_(
                "Left out, having run an experiment more than {bound} off the other processes "
                "of their run (a moment of the machine's own): {workers}."
            ).format(
                bound=ratio(SLOW_MOMENT),
                workers=_("; ").join(
                    _("{label}, {experiment}, worker {round} ({ratio})").format(
                        label=w.label, experiment=w.experiment, round=w.round, ratio=ratio(w.ratio)
                    )
                    for w in left_out
                ),
            ),
        )
    return sentence
