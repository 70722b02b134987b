"""Spreadsheet exchange: imports of trainees and attendance from CSV or XLSX, and exports of the registry.

imports/ reads files and maps their rows onto skills.operations (the one place the rules live);
exports.py streams the registry out as CSV or XLSX; views.py (web pages) and api.py (/api/v1) are thin.
"""
