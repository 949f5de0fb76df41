"""The class view: many machines' runs in one page, ranked, with statistics that hold.

A study group's shared drive holds run folders as students made them: several runs of one
laptop, runs of other profiles or settings, older formats, interrupted runs, a stray file,
the same run copied twice. `collect` finds and reads them (keeping what it can, saying what
it left out), `group` sorts them into machines and comparable groups, `rank` takes each
experiment's headline figures from its section (the class view names no experiment) and
tests them against the class median with the diff's own tests over one family for the
page, and `views` and `document` write class.html / class.md / class.pdf and class.json.
"""
