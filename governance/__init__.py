"""The governance cell's view: people trained against the target, breakdowns, quarters and reports."""
