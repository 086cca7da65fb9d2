"""Parsers: model text -> records + warnings. Pure functions that never raise.

Model output is untrusted and often imperfect: cut off at --max-new-tokens, wrapped in code fences,
looping on one line, or drifting into another format. Each parser keeps what it can recover and says
what it could not in a list of one-line warnings, which the task puts on the page record.
"""
