"""What a person reads, said once: status labels, rule names, masking of personal data, money text,
and the spreadsheet cell rule for exact amounts.

Every command, export and report formats through here, so a label, a mask or an amount reads the
same on the terminal, in a checklist and in a report. Imports `schemas` and `pipelines.rules` only.
"""
