"""The shared customer profile's vocabulary: typed records of the timeline, their field checks, errors and
the webhook events the profile emits.

May import: ``core``.
"""
