"""The audit trail: an append-only, hash-chained log of sensitive reads, writes and denied access.

Write through ``services.audit_record`` (the one gate), check with ``verify.verify_chain`` or
``manage.py verify_audit``.
"""
