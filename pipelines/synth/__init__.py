"""Synthetic inbox generator for fundwatch (合成数据): realistic extracts of one province.

``generate(persons, out, seed=0, dirty=True)`` writes

    OUT/<dataset>/<file>.csv|.parquet|.xlsx   the 14 contract datasets, several files each
    OUT/_truth/findings.csv                   rule,subject_id,person_id,region_code,period_from,
                                              period_to,amount_at_risk,note  (planted findings)
    OUT/_truth/near_misses.csv                kind,rule,subject_id,note      (must NOT be flagged)
    OUT/_truth/bad_rows.csv                   dataset,file,line,column,kind  (to quarantine)
    OUT/_truth/rejected_files.csv             dataset,file,kind              (to reject whole)
    OUT/_truth/valid_rows.csv                 dataset,file,rows_valid,rows_bad,rows_resolved
    OUT/_truth/id_forms.csv                   dataset,file,line,raw_id,canonical_id
    OUT/_truth/resolutions.csv                dataset,file,line,person_id_raw,expected,outcome,
                                              candidates  (mistyped IDs, CONTRACT section 6)
    OUT/_truth/summary.json                   the returned summary

Layout of the package:

* ``constants``  year, regions, name lists, the contract's columns (transcribed, not imported)
* ``rng``        named, seeded, vectorised random streams (Arrow's generator)
* ``ids``        GB 11643 check digits, 15-digit legacy form, typos and their candidates
* ``population`` persons (no namesakes of one birth date and gender), employers, operators, fund accounts
* ``background`` every dataset, finding-free by construction (vectorised polars)
* ``plants``     planted findings of the 15 rules and near-misses, mistyped IDs, with their truth
* ``batch``      a payment batch to screen (CONTRACT section 7), its truth and blacklist (--batch)
* ``dirt``       value forms as people type them (IDs, dates, periods, money, code labels)
* ``writer``     splitting into files, file styles, bad rows, CSV/XLSX/Parquet writers
* ``generate``   the orchestrator; checks every mistyped ID's candidates against the enrollment

A bad row is quarantined by ingest; ``rows_valid`` counts the rows a file loads as they
are, ``rows_resolved`` its rows with a mistyped ID that resolve (they are bad rows too,
and are loaded besides: CONTRACT section 6).  A clean inbox (``dirty=False``) has the
resolving ones typed right and not the others, so both hold the same findings.
"""

from .constants import YEAR
from .generate import generate

__all__ = ["YEAR", "generate"]
