"""Voiceprints for the API and calls: enrolment, back-office and passive verification in calls, every action
audited.

May import: ``core``, ``media``, ``biometrics``, ``store``.
"""
