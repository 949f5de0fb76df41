"""The sentences that say how the diff decided: the rules, what each was held against, and
which workers it left out. Shared by the terminal, Markdown and HTML views."""

from __future__ import annotations

from collections.abc import Sequence

from report.diff.compare import Drift, Row
from report.diff.processes import SLOW_MOMENT, LeftOut
from report.diff.stats import FASTER, PROCESSES, SLOWER
from report.words.formatting import ratio
from report.words.i18n import _

# Processes a side from which the diff stops pointing at `--workers`: with 6 (the quick
# profile's run and its 5 workers) a 1.25x slowdown clears the 1.05 minimum among 41
# timings at alpha 0.01 on a spread between processes of up to about 5 %, this project's VM
# having 4-6 %; with the default profile's 4 a side, only up to 2.7 %. A student diffing
# two default runs hears "within noise" and should learn what buys more power.
MANY_PROCESSES = 6
# what that hint asks the reader to add to both runs' command lines
MORE_WORKERS_OPTION = "--workers N"


def how_to_read() -> str:
    return _(
        "Verdict: SLOWER or faster only when a test and a ratio agree. A timing measured in "
        "several fresh processes a side (the processes column) is decided from its "
        "processes' medians: a t test of their ratio against the larger of the minimum ratio "
        "and the shift of the machine's own level between two runs of it. A handful of "
        "processes shows their spread only roughly, so the test estimates it together with "
        "the diff's other such timings (a moderated t test). Any other "
        "timing is decided from the values of one process a side: the Mann–Whitney U test "
        "against the larger of the minimum ratio and the machines' widest drift. Either way "
        "Holm's correction covers every timing tested. ≈: within noise; ≈ drift: a difference "
        "the drift could explain; ?: the data cannot decide (the reason is given)."
    )


def rules_sentence(rows: list[Row], drift: Drift, left_out: Sequence[LeftOut] = ()) -> str | None:
    """How many timings each rule decided, what the processes rule was held against, and
    which workers it left out."""
    by_processes = [r for r in rows if r.comparison.rule == PROCESSES]
    if not by_processes:
        return None
    guard = max(drift.guard_for(r.metric) for r in by_processes)
    sentence = _(
        "{count} of {total} timings were measured in several processes a side and are "
        "decided from their processes' medians, held against how much they move from one "
        "process to another and against the shift of the machine's level between the runs "
        "({guard}); the other {rest} from one process a side, against the whole drift."
    ).format(
        count=len(by_processes),
        total=len(rows),
        guard=ratio(guard),
        rest=len(rows) - len(by_processes),
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


def more_workers(rows: Sequence[Row]) -> tuple[str, str] | None:
    """Where timings of the processes rule went uncalled from few processes, what would let
    the diff call smaller changes: the sentence's text before and after the option, which
    each view sets as it shows code (a PDF line must not break inside `--workers`)."""
    by_processes = [r for r in rows if r.comparison.rule == PROCESSES]
    uncalled = [r for r in by_processes if r.comparison.verdict not in (SLOWER, FASTER)]
    if not uncalled:
        return None
    fewest = min(min(r.processes) for r in uncalled)
    if fewest >= MANY_PROCESSES:
        return None
    before, after = _(
        "Of the {total} timings from several processes, {count} were not called SLOWER or "
        "faster, from as few as {fewest} processes a side. Runs made with more workers "
        "({option} for both) give each timing more processes to average and show more "
        "closely how far it moves between them, so the diff can call smaller changes."
    ).split("{option}", 1)
    counts = {"total": len(by_processes), "count": len(uncalled), "fewest": fewest}
    return before.format(**counts), after.format(**counts)
