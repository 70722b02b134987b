"""Imports from spreadsheets: trainees (and, optionally, their enrollment in a cohort) and a session's
attendance, from CSV or XLSX files as people really save them.

One module for each thing an import does, in the order a file goes through them:

    faults.py      what went wrong, by row and column (ImportRefused, fault, refuse, refused_report)
    readers.py     bytes to a Table: CSV (UTF-8 or UTF-16; comma, semicolon or tab) or XLSX; row limits
    columns.py     headers (English or French) to fields, values (codes or labels) to vocabulary codes
    plan.py        a trainee file sorted into creations, updates and unchanged rows, writing nothing
    trainees.py    the trainee import: the plan's report, then its bulk write (skills' write_trainees),
                   enrollment and one audit entry
    attendance.py  the attendance import, through skills' record_attendance
    uploads.py     a file kept between the dry run and the commit (web pages)
    jobs.py        the background job that runs a big trainee file with a progress bar

Every rule on a value lives in skills.operations and is called from here: `trainee_values` for each row,
`write_trainees`, `enrol_trainees` and `record_attendance` as they are. An import is all or nothing: a
commit with any bad row raises ImportRefused and writes nothing. This package names nothing itself: import
each name from its module.
"""
