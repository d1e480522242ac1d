"""Work-level findings: extraction rates, error rates from controls, intervals, flags (issue 12).

Pure core: no Qt, no torch. See :mod:`.coverage` for what a window covers
and how overlapping windows combine, :mod:`.stats` for the intervals,
:mod:`.report` for the case-wide assembly used by the CLI, GUI and exhibit.
"""

from memoview.core.findings.coverage import DEFAULT_TAUS, SweepRates, max_profile, sweep_rates
from memoview.core.findings.report import NO_CONTROLS, CaseFindings, WorkFindings, case_findings
from memoview.core.findings.stats import Rate, clopper_pearson, fmt_log10, fmt_pct, fmt_pz

__all__ = ["DEFAULT_TAUS", "NO_CONTROLS", "CaseFindings", "Rate", "SweepRates", "WorkFindings", "case_findings",
           "clopper_pearson", "fmt_log10", "fmt_pct", "fmt_pz", "max_profile", "sweep_rates"]
